"""wharf's errors are also Dagster's error classes: a Dagster user's ``pytest.raises`` catches
what it catches under Dagster, and ``except <builtin>`` keeps catching what it catches today.

Each situation below is one where Dagster's docs or its own test suite name the class raised
(duplicate keys and missing resources: ``DagsterInvalidDefinitionError``; an unknown selection:
``DagsterInvalidSubsetError``; a return value failing its annotation with ``raise_on_error``:
``DagsterTypeCheckDidNotPass``; ``output_for_node`` of a step without an output and a partition
key asked of an unpartitioned context: ``DagsterInvariantViolationError``; a missing ``EnvVar``:
``DagsterInvalidConfigError``; ``context.resources.<missing>``: ``DagsterUnknownResourceError``;
a partition key not in the definition: ``DagsterUnknownPartitionError``).
"""

import pytest

import wharf as dg
from wharf import errors

# wharf error -> (the Dagster classes it is, the builtin it stays)
TREE = {
    errors.WharfError: ((dg.DagsterError,), Exception),
    errors.DefinitionError: ((dg.DagsterInvalidDefinitionError,), ValueError),
    errors.CycleError: ((dg.DagsterInvalidDefinitionError,), ValueError),
    errors.DuplicateKeyError: ((dg.DagsterInvalidDefinitionError,), ValueError),
    errors.UnsafeNameError: ((dg.DagsterInvalidDefinitionError,), ValueError),
    errors.UnknownPartitionError: ((dg.DagsterUnknownPartitionError,), KeyError),
    errors.MissingResourceError: ((dg.DagsterInvalidDefinitionError,), KeyError),
    errors.UnknownResourceError: ((dg.DagsterUnknownResourceError,), AttributeError),
    errors.UnknownAssetError: (
        (
            dg.DagsterInvalidSubsetError,
            dg.DagsterInvariantViolationError,
            dg.DagsterInvalidDefinitionError,
        ),
        KeyError,
    ),
    errors.InvalidInvocationError: ((dg.DagsterInvalidInvocationError,), TypeError),
    errors.ContextError: ((dg.DagsterInvariantViolationError,), ValueError),
    errors.ConfigError: ((dg.DagsterInvalidConfigError,), ValueError),
    errors.MissingEnvVarError: ((dg.DagsterInvalidConfigError,), ValueError),
    errors.AssetTypeError: ((dg.DagsterTypeCheckDidNotPass,), TypeError),
    errors.StorageError: ((dg.DagsterError,), OSError),
    errors.StoredValueNotFoundError: ((dg.DagsterError,), FileNotFoundError),
    errors.StoreLockedError: ((dg.DagsterError,), OSError),
    errors.MissingDependencyError: ((dg.DagsterError,), ImportError),
    errors.AssetExecutionError: ((dg.DagsterInvariantViolationError,), RuntimeError),
    errors.InvalidSubsetError: (
        (dg.DagsterInvalidSubsetError, dg.DagsterInvalidDefinitionError),
        ValueError,
    ),
    errors.StepOutputError: (
        (dg.DagsterStepOutputNotFoundError, dg.DagsterInvariantViolationError),
        ValueError,
    ),
}


def test_every_wharf_error_is_in_the_table() -> None:
    wharf_classes = {
        c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.WharfError)
    }
    assert wharf_classes == set(TREE)


@pytest.mark.parametrize("cls", list(TREE), ids=lambda c: c.__name__)
def test_wharf_error_is_its_dagster_class_and_its_builtin(cls: type[errors.WharfError]) -> None:
    dagster_classes, builtin = TREE[cls]
    err = cls("what went wrong", asset="sales", io_manager="io_manager")
    assert isinstance(err, builtin)
    for dagster_cls in dagster_classes:
        assert isinstance(err, dagster_cls)
    assert isinstance(err, dg.DagsterError)
    assert str(err) == "what went wrong"  # wharf's message, unquoted even for KeyError
    assert err.asset == "sales"


def test_dagster_classes_can_be_raised_and_caught_by_user_code() -> None:
    with pytest.raises(dg.DagsterError, match="no handler"):
        raise dg.DagsterInvariantViolationError("no handler for this type")
    wrapped = dg.DagsterExecutionStepExecutionError(
        "Error occurred while executing op", user_exception=ValueError("x"), step_key="a"
    )
    assert isinstance(wrapped, dg.DagsterUserCodeExecutionError)
    assert wrapped.is_user_code_error
    assert isinstance(wrapped.user_exception, ValueError)
    assert wrapped.step_key == "a"
    assert issubclass(dg.DagsterResourceFunctionError, dg.DagsterUserCodeExecutionError)
    assert not issubclass(dg.DagsterExecutionInterruptedError, Exception)
    check = dg.DagsterTypeCheckDidNotPass("bad value", metadata={"rows": 3})
    assert check.description == "bad value"
    assert check.metadata == {"rows": 3}


def test_duplicate_asset_key_is_invalid_definition() -> None:
    @dg.asset(name="same")
    def one() -> int:
        return 1

    @dg.asset(name="same")
    def two() -> int:
        return 2

    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.Definitions(assets=[one, two])


def test_missing_resource_is_invalid_definition() -> None:
    @dg.asset(required_resource_keys={"warehouse"})
    def needs_warehouse() -> int:
        return 1

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="warehouse"):
        dg.materialize_to_memory([needs_warehouse])


def test_unknown_resource_on_a_context_is_dagster_unknown_resource_error() -> None:
    context = dg.build_asset_context(resources={"present": 1})
    assert context.resources.present == 1
    with pytest.raises(dg.DagsterUnknownResourceError, match="absent"):
        _ = context.resources.absent
    assert not hasattr(context.resources, "absent")


def test_wrong_return_type_is_type_check_did_not_pass() -> None:
    @dg.asset
    def count() -> int:
        return "three"  # type: ignore[return-value]

    with pytest.raises(dg.DagsterTypeCheckDidNotPass, match="count"):
        dg.materialize_to_memory([count])


def test_unknown_selection_is_invalid_subset() -> None:
    @dg.asset
    def present() -> int:
        return 1

    with pytest.raises(dg.DagsterInvalidSubsetError, match="absent"):
        dg.materialize_to_memory([present], selection=["absent"])


def test_output_of_a_failed_node_is_invariant_violation() -> None:
    @dg.asset
    def broken() -> int:
        raise RuntimeError("boom")

    result = dg.materialize_to_memory([broken], raise_on_error=False)
    assert not result.success
    with pytest.raises(dg.DagsterInvariantViolationError):
        result.output_for_node("broken")


def test_partition_key_of_unpartitioned_context_is_invariant_violation() -> None:
    context = dg.build_asset_context()
    with pytest.raises(dg.DagsterInvariantViolationError):
        _ = context.partition_key


def test_missing_env_var_is_invalid_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHARF_TEST_UNSET_VARIABLE", raising=False)

    class Creds(dg.ConfigurableResource):
        token: str

    @dg.asset
    def uses(creds: Creds) -> str:
        return creds.token

    with pytest.raises(dg.DagsterInvalidConfigError, match="WHARF_TEST_UNSET_VARIABLE"):
        dg.materialize_to_memory(
            [uses], resources={"creds": Creds(token=dg.EnvVar("WHARF_TEST_UNSET_VARIABLE"))}
        )


def test_unknown_partition_key_is_unknown_partition_error() -> None:
    letters = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(partitions_def=letters)
    def by_letter() -> int:
        return 1

    with pytest.raises(dg.DagsterUnknownPartitionError, match="z"):
        dg.materialize_to_memory([by_letter], partition_key="z")
