"""The public API of ``import wharf as dg``: pinned names, each resolving, Dagster signatures."""

import inspect

import pytest

import wharf as dg

EXPECTED_ALL = [
    "AllPartitionMapping",
    "Array",
    "AssetCheckEvaluation",
    "AssetCheckResult",
    "AssetCheckSeverity",
    "AssetCheckSpec",
    "AssetChecksDefinition",
    "AssetExecutionContext",
    "AssetIn",
    "AssetKey",
    "AssetMaterialization",
    "AssetMetadataValue",
    "AssetObservation",
    "AssetOut",
    "AssetSelection",
    "AssetSpec",
    "AssetStaleness",
    "AssetsDefinition",
    "BackfillPolicy",
    "BackfillPolicyType",
    "Backoff",
    "Bool",
    "BoolMetadataValue",
    "Config",
    "ConfigurableIOManager",
    "ConfigurableIOManagerFactory",
    "ConfigurableResource",
    "DagsterError",
    "DagsterEventType",
    "DagsterExecutionHandleOutputError",
    "DagsterExecutionInterruptedError",
    "DagsterExecutionLoadInputError",
    "DagsterExecutionStepExecutionError",
    "DagsterInstance",
    "DagsterInvalidConfigDefinitionError",
    "DagsterInvalidConfigError",
    "DagsterInvalidDefinitionError",
    "DagsterInvalidInvocationError",
    "DagsterInvalidSubsetError",
    "DagsterInvariantViolationError",
    "DagsterResourceFunctionError",
    "DagsterRunNotFoundError",
    "DagsterStepOutputNotFoundError",
    "DagsterTypeCheckDidNotPass",
    "DagsterTypeCheckError",
    "DagsterUnknownPartitionError",
    "DagsterUnknownResourceError",
    "DagsterUnmetExecutorRequirementsError",
    "DagsterUserCodeExecutionError",
    "DailyPartitionsDefinition",
    "DataVersion",
    "DbIOManager",
    "DbTypeHandler",
    "DefaultScheduleStatus",
    "DefaultSensorStatus",
    "Definitions",
    "DependencyDefinition",
    "DynamicOut",
    "DynamicOutput",
    "DynamicPartitionsDefinition",
    "Enum",
    "EnumValue",
    "EnvVar",
    "ExecuteInProcessResult",
    "Failure",
    "Field",
    "FilesystemIOManager",
    "Float",
    "FloatMetadataValue",
    "GraphDefinition",
    "GraphIn",
    "GraphOut",
    "HourlyPartitionsDefinition",
    "IOManager",
    "IOManagerDefinition",
    "IdentityPartitionMapping",
    "In",
    "InMemoryIOManager",
    "InitResourceContext",
    "InputContext",
    "InputManager",
    "InputManagerDefinition",
    "Int",
    "IntMetadataValue",
    "Jitter",
    "JobDefinition",
    "JsonMetadataValue",
    "LastPartitionMapping",
    "LoggerDefinition",
    "MarkdownMetadataValue",
    "MaterializeResult",
    "MetadataValue",
    "MonthlyPartitionsDefinition",
    "MultiDependencyDefinition",
    "MultiPartitionKey",
    "MultiPartitionsDefinition",
    "NodeInvocation",
    "Noneable",
    "Nothing",
    "NullMetadataValue",
    "ObjectStoreIOManager",
    "OpDefinition",
    "OpExecutionContext",
    "OpJobDefinition",
    "Out",
    "Output",
    "OutputContext",
    "PartitionKeyRange",
    "PartitionMapping",
    "PartitionsDefinition",
    "PathMetadataValue",
    "Permissive",
    "PermissiveConfig",
    "RepositoryDefinition",
    "ResourceDefinition",
    "ResourceParam",
    "RetryPolicy",
    "RetryRequested",
    "RunConfig",
    "RunRequest",
    "ScheduleDefinition",
    "ScheduleEvaluationContext",
    "Selector",
    "SensorDefinition",
    "SensorEvaluationContext",
    "Shape",
    "SkipReason",
    "SourceAsset",
    "StaticPartitionMapping",
    "StaticPartitionsDefinition",
    "String",
    "TableColumn",
    "TableColumnConstraints",
    "TableConstraints",
    "TableMetadataValue",
    "TableOptions",
    "TablePartitionDimension",
    "TableRecord",
    "TableSchema",
    "TableSchemaMetadataValue",
    "TableSlice",
    "TextMetadataValue",
    "TimeWindow",
    "TimeWindowPartitionMapping",
    "TimeWindowPartitionsDefinition",
    "TimestampMetadataValue",
    "UPathIOManager",
    "UnresolvedAssetJobDefinition",
    "UrlMetadataValue",
    "WeeklyPartitionsDefinition",
    "asset",
    "asset_check",
    "build_asset_context",
    "build_init_resource_context",
    "build_input_context",
    "build_op_context",
    "build_output_context",
    "build_schedule_context",
    "build_sensor_context",
    "dask_executor",
    "define_asset_job",
    "errors",
    "file_relative_path",
    "fs_io_manager",
    "get_dagster_logger",
    "graph",
    "graph_asset",
    "graph_multi_asset",
    "in_process_executor",
    "input_manager",
    "instance_for_test",
    "io_manager",
    "job",
    "load_assets_from_current_module",
    "load_assets_from_modules",
    "load_assets_from_package_module",
    "load_assets_from_package_name",
    "logger",
    "materialize",
    "materialize_to_memory",
    "mem_io_manager",
    "multi_asset",
    "multiprocess_executor",
    "observable_source_asset",
    "op",
    "repository",
    "resource",
    "schedule",
    "sensor",
    "with_resources",
]


def test_all_is_pinned() -> None:
    assert sorted(dg.__all__) == EXPECTED_ALL
    assert len(set(dg.__all__)) == len(dg.__all__)


@pytest.mark.parametrize("name", EXPECTED_ALL)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(dg, name) is not None
    assert name in dir(dg)


def test_unknown_attribute_is_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = dg.nope  # type: ignore[attr-defined]


def test_lazy_names_are_the_real_classes() -> None:
    from wharf._core.config import ConfigurableResource
    from wharf._io.filesystem import FilesystemIOManager

    assert dg.ConfigurableResource is ConfigurableResource
    assert dg.FilesystemIOManager is FilesystemIOManager
    assert issubclass(dg.ConfigurableIOManager, dg.IOManager)
    assert issubclass(dg.ConfigurableIOManager, dg.ConfigurableResource)


def params(fn: object) -> list[str]:
    return list(inspect.signature(fn).parameters)  # type: ignore[arg-type]


def test_dagster_signatures() -> None:
    assert params(dg.materialize)[:3] == ["assets", "resources", "selection"]
    assert "raise_on_error" in params(dg.materialize)
    assert params(dg.materialize_to_memory)[:3] == ["assets", "resources", "selection"]
    assert params(dg.Definitions)[:2] == ["assets", "resources"]
    assert params(dg.AssetIn)[:2] == ["key", "metadata"]
    assert "dagster_type" in params(dg.AssetIn)
    assert params(dg.AssetSpec)[0] == "key"
    assert params(dg.Output)[0] == "value"
    assert params(dg.IOManager.handle_output) == ["self", "context", "obj"]
    assert params(dg.IOManager.load_input) == ["self", "context"]
    assert params(dg.UPathIOManager.dump_to_path) == ["self", "context", "obj", "path"]
    assert params(dg.UPathIOManager.load_from_path) == ["self", "context", "path"]
    assert "base_dir" in dg.FilesystemIOManager.model_fields
    build_out = params(dg.build_output_context)
    assert {"asset_key", "definition_metadata", "dagster_type", "resource_config"} <= set(build_out)
    build_in = params(dg.build_input_context)
    assert {"asset_key", "upstream_output", "definition_metadata", "dagster_type"} <= set(build_in)


def test_asset_decorator_keywords() -> None:
    for kwargs in [
        {"name": "n"},
        {"key": "k"},
        {"key_prefix": "p"},
        {"ins": {}},
        {"deps": []},
        {"io_manager_key": "io_manager"},
        {"metadata": {}},
        {"group_name": "g"},
        {"description": "d"},
        {"code_version": "1"},
        {"required_resource_keys": set()},
    ]:

        def f() -> int:
            return 1

        assert isinstance(dg.asset(**kwargs)(f), dg.AssetsDefinition), kwargs


def test_metadata_value_constructors() -> None:
    assert dg.MetadataValue.text("t") == dg.MetadataValue("t", "text")
    assert dg.MetadataValue.int(1).value == 1
    assert dg.MetadataValue.float(1.5).kind == "float"
    assert dg.MetadataValue.bool(True).value is True
    assert dg.MetadataValue.json({"a": 1}).value == {"a": 1}
    assert dg.MetadataValue.md("# h").kind == "md"
    assert dg.MetadataValue.url("https://x").kind == "url"
    assert dg.MetadataValue.path("/p").value == "/p"
    assert dg.MetadataValue.null().value is None
    assert dg.MetadataValue.table_schema({"a": "int64"}).value == {"a": "int64"}


def test_errors_module_tree() -> None:
    e = dg.errors
    assert issubclass(e.DefinitionError, ValueError)
    assert issubclass(e.CycleError, e.DefinitionError)
    assert issubclass(e.DuplicateKeyError, e.DefinitionError)
    assert issubclass(e.UnsafeNameError, e.DefinitionError)
    assert issubclass(e.UnknownPartitionError, e.DefinitionError)
    assert issubclass(e.UnknownPartitionError, KeyError)
    assert issubclass(e.MissingResourceError, KeyError)
    assert issubclass(e.MissingResourceError, e.DefinitionError)
    assert issubclass(e.UnknownAssetError, KeyError)
    assert issubclass(e.ConfigError, ValueError)
    assert issubclass(e.MissingEnvVarError, e.ConfigError)
    assert issubclass(e.AssetTypeError, TypeError)
    assert issubclass(e.StorageError, OSError)
    assert issubclass(e.StoredValueNotFoundError, FileNotFoundError)
    assert issubclass(e.MissingDependencyError, ImportError)
    assert issubclass(e.AssetExecutionError, RuntimeError)
    for name in e.__all__:  # wharf's tree, or Dagster's classes (which wharf's tree inherits)
        cls = getattr(e, name)
        assert issubclass(cls, e.WharfError) or name.startswith("Dagster")
    err = e.MissingResourceError("plain text", asset="a", io_manager="im")
    assert str(err) == "plain text"  # not quoted like a KeyError
    assert (err.asset, err.io_manager) == ("a", "im")
