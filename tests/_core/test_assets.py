"""The @asset decorator: arguments, inputs, context injection, direct invocation, specs."""

from typing import Any

import pytest

import wharf as dg
from wharf.errors import DefinitionError, UnsafeNameError


def test_bare_asset_uses_function_name_and_defaults() -> None:
    @dg.asset
    def sales() -> list[int]:
        """Daily sales."""
        return [1]

    assert isinstance(sales, dg.AssetsDefinition)
    assert sales.key == dg.AssetKey("sales")
    assert sales.io_manager_key == "io_manager"
    assert sales.group_name == "default"
    assert sales.description == "Daily sales."
    assert sales.inputs == ()
    assert sales.op_name == "sales"


def test_asset_arguments_are_recorded() -> None:
    @dg.asset(
        name="totals",
        key_prefix=["wh", "mart"],
        io_manager_key="warehouse",
        metadata={"owner": "ana"},
        group_name="finance",
        description="Totals per day.",
        code_version="3",
        required_resource_keys={"api"},
    )
    def anything() -> int:
        return 1

    assert anything.key == dg.AssetKey(["wh", "mart", "totals"])
    assert anything.io_manager_key == "warehouse"
    assert anything.metadata == {"owner": "ana"}
    assert anything.group_name == "finance"
    assert anything.description == "Totals per day."
    assert anything.code_version == "3"
    assert anything.required_resource_keys == {"api"}


def test_key_argument() -> None:
    @dg.asset(key=["a", "b"])
    def f() -> int:
        return 1

    @dg.asset(key=dg.AssetKey("c"))
    def g() -> int:
        return 1

    assert f.key == dg.AssetKey(["a", "b"])
    assert g.key == dg.AssetKey("c")


def test_key_with_name_is_an_error() -> None:
    def f() -> int:
        return 1

    with pytest.raises(DefinitionError, match="either key= or name=") as info:
        dg.asset(key="a", name="b")(f)

    assert isinstance(info.value, ValueError)


def test_unknown_decorator_argument_is_a_type_error() -> None:
    def fetch() -> int:
        return 1

    with pytest.raises(TypeError, match="asset 'fetch': @asset got unknown argument io_manager"):
        dg.asset(io_manager="x")(fetch)  # type: ignore[call-overload]


def test_tolerated_dagster_arguments_are_accepted() -> None:
    @dg.asset(compute_kind="python", owners=["team:data"], kinds={"python"})
    def f() -> int:
        return 1

    assert f.key == dg.AssetKey("f")


def test_parameters_become_inputs_with_their_annotation() -> None:
    @dg.asset
    def clean(raw: list[int], other: dict[str, int]) -> list[int]:
        return raw

    assert [(i.param, i.key, i.annotation) for i in clean.inputs] == [
        ("raw", dg.AssetKey("raw"), list[int]),
        ("other", dg.AssetKey("other"), dict[str, int]),
    ]


def test_key_prefix_is_not_inherited_by_inputs_like_dagster() -> None:
    """Dagster 1.13: ``keys_by_input_name`` of ``@asset(key_prefix="wh") def clean(raw)`` is
    ``{"raw": AssetKey(["raw"])}``; the graph later resolves ``raw`` to ``wh/raw`` when that is
    the one asset named ``raw`` in the same group (tests/test_dagster_behaviours.py)."""

    @dg.asset(key_prefix="wh")
    def clean(raw: list[int]) -> list[int]:
        return raw

    assert clean.key == dg.AssetKey(["wh", "clean"])
    assert clean.inputs[0].key == dg.AssetKey(["raw"])


def test_asset_in_remaps_key_and_carries_metadata_and_type() -> None:
    @dg.asset(
        key_prefix="wh",
        ins={
            "rows": dg.AssetIn(key="raw_sales_data", metadata={"columns": ["a"]}),
            "other": dg.AssetIn(key_prefix=["elsewhere"], dagster_type=dict),
        },
    )
    def clean(rows: list[int], other: Any) -> list[int]:
        return rows

    rows, other = clean.inputs
    assert rows.key == dg.AssetKey("raw_sales_data")
    assert rows.metadata == {"columns": ["a"]}
    assert other.key == dg.AssetKey(["elsewhere", "other"])
    assert other.annotation is dict


def test_ins_naming_no_parameter_is_an_error() -> None:
    def clean(raw: int) -> int:
        return raw

    with pytest.raises(DefinitionError) as info:
        dg.asset(ins={"nope": dg.AssetIn("x")})(clean)

    msg = str(info.value)
    assert "'clean'" in msg
    assert "'nope'" in msg
    assert "raw" in msg
    assert isinstance(info.value, ValueError)


def test_deps_are_not_inputs() -> None:
    spec = dg.AssetSpec("external")

    @dg.asset
    def upstream() -> int:
        return 1

    @dg.asset(deps=[spec, upstream, "by_name", dg.AssetKey(["k", "p"])])
    def downstream() -> None:
        pass

    assert downstream.inputs == ()
    assert downstream.deps == (
        dg.AssetKey("external"),
        dg.AssetKey("upstream"),
        dg.AssetKey("by_name"),
        dg.AssetKey(["k", "p"]),
    )


def test_context_injected_when_first_parameter_is_context() -> None:
    @dg.asset
    def with_ctx(context, raw: int) -> int:  # type: ignore[no-untyped-def]
        return raw

    @dg.asset
    def annotated(ctx: dg.AssetExecutionContext, raw: int) -> int:
        return raw

    assert with_ctx.context_param == "context"
    assert annotated.context_param == "ctx"
    assert [i.param for i in with_ctx.inputs] == ["raw"]
    assert [i.param for i in annotated.inputs] == ["raw"]


def test_direct_invocation() -> None:
    @dg.asset
    def double(numbers: list[int]) -> list[int]:
        return [n * 2 for n in numbers]

    @dg.asset
    def keyed(context: dg.AssetExecutionContext, numbers: list[int]) -> str:
        return f"{context.asset_key.to_user_string()}:{sum(numbers)}"

    assert double([1, 2]) == [2, 4]
    assert double(numbers=[3]) == [6]
    assert keyed([1, 2]) == "keyed:3"
    ctx = dg.build_asset_context(asset_key="other")
    assert keyed(ctx, [5]) == "other:5"


def test_asset_spec() -> None:
    spec = dg.AssetSpec(
        ["src", "raw"], deps=["x"], description="d", metadata={"m": 1}, group_name="g"
    )
    assert spec.key == dg.AssetKey(["src", "raw"])
    assert spec.deps == [dg.AssetKey("x")]
    assert spec.metadata == {"m": 1}
    assert spec.group_name == "g"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": ".."},
        {"name": ""},
        {"name": "a/b"},
        {"name": "nul\x00"},
        {"key_prefix": ".."},
        {"key_prefix": ["ok", ""]},
        {"key": ["a", ".."]},
        {"key": "a/b"},
    ],
)
def test_unsafe_names_fail_at_definition_time(kwargs: dict[str, Any]) -> None:
    def fine_name() -> int:
        return 1

    with pytest.raises(UnsafeNameError) as info:
        dg.asset(**kwargs)(fine_name)

    assert isinstance(info.value, ValueError)
    assert "unsafe as a path or table name" in str(info.value)


@pytest.mark.parametrize("bad", ["..", "", "x/y", "\x00"])
def test_unsafe_names_in_spec_and_asset_in(bad: str) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        dg.AssetSpec(bad)
    with pytest.raises(ValueError, match="unsafe"):
        dg.AssetIn(key=bad)

    def f(raw: int) -> int:
        return raw

    with pytest.raises(UnsafeNameError):  # a prefix is checked where the key is built
        dg.asset(ins={"raw": dg.AssetIn(key_prefix=bad)})(f)


def test_direct_invocation_with_resource_parameter() -> None:
    class Client:
        factor = 10

    @dg.asset
    def scaled(context, n: int, client: dg.ResourceParam[Client]) -> int:  # type: ignore[no-untyped-def]
        assert isinstance(context, dg.AssetExecutionContext)
        return n * client.factor

    assert scaled(2, Client()) == 20
    assert scaled(dg.build_asset_context(), 3, client=Client()) == 30
    assert scaled(context=dg.build_asset_context(), n=4, client=Client()) == 40


def test_dagster_decorator_arguments_are_checked_and_recorded() -> None:
    from wharf._core.checks import AssetCheckSpec

    class Condition:  # stands for an AutomationCondition object
        pass

    condition = Condition()

    @dg.asset(
        compute_kind="pandas",
        kinds={"pandas", "duckdb"},
        owners=["team:data", "ana@example.com"],
        tags={"tier": "gold"},
        retry_policy=dg.RetryPolicy(max_retries=2),
        automation_condition=condition,
        op_tags={"dagster/priority": 3},
        pool="warehouse",
        check_specs=[AssetCheckSpec("fresh", asset="recorded")],
        output_required=False,
    )
    def recorded() -> int:
        return 1

    assert recorded.kinds == {"pandas", "duckdb"}
    assert recorded.owners == ["team:data", "ana@example.com"]
    assert recorded.compute_kind == "pandas"
    assert recorded.tags == {"tier": "gold"}
    assert recorded.retry_policy == dg.RetryPolicy(max_retries=2)
    assert recorded.automation_condition is condition
    assert recorded.op_tags == {"dagster/priority": 3}
    assert recorded.pool == "warehouse"
    assert [s.name for s in recorded.check_specs] == ["fresh"]
    assert recorded.output_required is False
    sel = dg.AssetSelection.kind("duckdb") & dg.AssetSelection.owner("team:data")
    assert sel.resolve([recorded]) == {recorded.key}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kinds": "pandas"}, r"asset 'bad': kinds='pandas' is not valid: expected a list of str"),
        ({"owners": ["nobody"]}, "expected an email or 'team:name'"),
        ({"tags": {"tier": 1}}, "tags=.* expected str keys and str values"),
        ({"tags": ["tier"]}, "expected a dict of str to str"),
        ({"compute_kind": 3}, "compute_kind=3"),
        ({"retry_policy": object()}, "is not a RetryPolicy"),
        ({"automation_condition": "eager"}, "automation_condition='eager'"),
        ({"freshness_policy": 60}, "freshness_policy=60"),
        ({"backfill_policy": "single_run"}, "backfill_policy="),
        ({"op_tags": ["x"]}, "op_tags="),
        ({"pool": ""}, "pool=''"),
        ({"check_specs": ["fresh"]}, "expected a list of AssetCheckSpec"),
        ({"output_required": "no"}, "output_required='no'"),
        ({"colour": "red"}, "asset 'bad': @asset got unknown argument colour"),
    ],
)
def test_wrong_decorator_arguments_name_the_asset(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(dg.errors.DefinitionError, match=match):

        @dg.asset(name="bad", **kwargs)  # type: ignore[call-overload]
        def f() -> int:
            return 1
