"""wharf: data assets as plain functions, with storage pluggable through I/O managers.

Names and behaviour follow Dagster's public API for assets, resources and I/O managers, so
``import wharf as dg`` runs Dagster asset code unchanged. ``import wharf`` stays light: names
that need pydantic load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wharf import errors
from wharf._core.assets import AssetIn, AssetsDefinition, AssetSpec, ResourceParam, asset
from wharf._core.checks import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    asset_check,
)
from wharf._core.composition import (
    DependencyDefinition,
    GraphDefinition,
    GraphIn,
    GraphOut,
    MultiDependencyDefinition,
    NodeInvocation,
    graph,
)
from wharf._core.config_schema import (
    Array,
    Bool,
    Enum,
    EnumValue,
    Field,
    Float,
    Int,
    Noneable,
    Permissive,
    Selector,
    Shape,
    String,
)
from wharf._core.contexts import (
    AssetExecutionContext,
    InputContext,
    OutputContext,
    build_asset_context,
    build_init_resource_context,
    build_input_context,
    build_op_context,
    build_output_context,
)
from wharf._core.definitions import Definitions
from wharf._core.definitions_checks import RepositoryDefinition
from wharf._core.env import EnvVar
from wharf._core.event_data import DagsterEventType
from wharf._core.events import AssetObservation
from wharf._core.execution import AssetMaterialization
from wharf._core.executors import in_process_executor, multiprocess_executor
from wharf._core.graph_assets import graph_asset, graph_multi_asset
from wharf._core.instance import DagsterInstance, instance_for_test
from wharf._core.io_managers import (
    BUILT_IN,
    InputManager,
    InputManagerDefinition,
    IOManager,
    IOManagerDefinition,
    input_manager,
    io_manager,
)
from wharf._core.jobs import JobDefinition, UnresolvedAssetJobDefinition, define_asset_job
from wharf._core.keys import AssetKey
from wharf._core.loading import (
    file_relative_path,
    load_assets_from_current_module,
    load_assets_from_modules,
    load_assets_from_package_module,
    load_assets_from_package_name,
    with_resources,
)
from wharf._core.loggers import LoggerDefinition, logger
from wharf._core.logs import get_dagster_logger
from wharf._core.materialize import ExecuteInProcessResult, materialize, materialize_to_memory
from wharf._core.multi_assets import AssetOut, multi_asset
from wharf._core.op_jobs import OpJobDefinition, job
from wharf._core.ops import DynamicOut, In, Nothing, OpDefinition, OpExecutionContext, Out, op
from wharf._core.partitioning.backfill import BackfillPolicy, BackfillPolicyType
from wharf._core.partitioning.definitions import (
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    PartitionKeyRange,
    PartitionsDefinition,
    StaticPartitionsDefinition,
)
from wharf._core.partitioning.mappings import (
    AllPartitionMapping,
    IdentityPartitionMapping,
    LastPartitionMapping,
    PartitionMapping,
    StaticPartitionMapping,
    TimeWindowPartitionMapping,
)
from wharf._core.partitioning.time_windows import (
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    TimeWindow,
    TimeWindowPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from wharf._core.repository import repository
from wharf._core.resource_defs import ResourceDefinition, resource
from wharf._core.results import (
    AssetMetadataValue,
    BoolMetadataValue,
    DynamicOutput,
    FloatMetadataValue,
    IntMetadataValue,
    JsonMetadataValue,
    MarkdownMetadataValue,
    MaterializeResult,
    MetadataValue,
    NullMetadataValue,
    Output,
    PathMetadataValue,
    TableMetadataValue,
    TableSchemaMetadataValue,
    TextMetadataValue,
    TimestampMetadataValue,
    UrlMetadataValue,
)
from wharf._core.retries import Backoff, Failure, Jitter, RetryPolicy, RetryRequested
from wharf._core.run_config import RunConfig
from wharf._core.schedules import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    schedule,
    sensor,
)
from wharf._core.selection import AssetSelection
from wharf._core.source_assets import SourceAsset, observable_source_asset
from wharf._core.staleness import AssetStaleness
from wharf._core.table_metadata import (
    TableColumn,
    TableColumnConstraints,
    TableConstraints,
    TableRecord,
    TableSchema,
)
from wharf._core.versions import DataVersion
from wharf._io.legacy import fs_io_manager, mem_io_manager
from wharf._io.memory import InMemoryIOManager
from wharf._io.table_options import TableOptions
from wharf._io.type_handlers import DbTypeHandler, TablePartitionDimension, TableSlice
from wharf._io.upath import UPathIOManager
from wharf.errors import (
    DagsterError,
    DagsterExecutionHandleOutputError,
    DagsterExecutionInterruptedError,
    DagsterExecutionLoadInputError,
    DagsterExecutionStepExecutionError,
    DagsterInvalidConfigDefinitionError,
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvalidSubsetError,
    DagsterInvariantViolationError,
    DagsterResourceFunctionError,
    DagsterRunNotFoundError,
    DagsterStepOutputNotFoundError,
    DagsterTypeCheckDidNotPass,
    DagsterTypeCheckError,
    DagsterUnknownPartitionError,
    DagsterUnknownResourceError,
    DagsterUnmetExecutorRequirementsError,
    DagsterUserCodeExecutionError,
)

if TYPE_CHECKING:
    from wharf._core.config import ConfigurableResource, InitResourceContext
    from wharf._core.config_class import Config, PermissiveConfig
    from wharf._core.config_io import ConfigurableIOManager, ConfigurableIOManagerFactory
    from wharf._core.dask_executor import dask_executor
    from wharf._io.filesystem import FilesystemIOManager
    from wharf._io.object_store import ObjectStoreIOManager

__version__ = "0.1.0"

# name -> module; imported on first attribute access (they pull in pydantic).
_LAZY = {
    "ConfigurableResource": "wharf._core.config",
    "Config": "wharf._core.config_class",
    "PermissiveConfig": "wharf._core.config_class",
    "InitResourceContext": "wharf._core.config",
    "ConfigurableIOManager": "wharf._core.config_io",
    "ConfigurableIOManagerFactory": "wharf._core.config_io",
    "FilesystemIOManager": "wharf._io.filesystem",
    "ObjectStoreIOManager": "wharf._io.object_store",
    "dask_executor": "wharf._core.dask_executor",
    "DbIOManager": "wharf._io.store_io",
}

__all__ = [
    "DependencyDefinition",
    "DynamicOut",
    "DynamicOutput",
    "GraphDefinition",
    "GraphIn",
    "GraphOut",
    "In",
    "MultiDependencyDefinition",
    "NodeInvocation",
    "Nothing",
    "OpDefinition",
    "OpExecutionContext",
    "OpJobDefinition",
    "Out",
    "graph",
    "graph_asset",
    "graph_multi_asset",
    "job",
    "op",
    "TableColumn",
    "TableColumnConstraints",
    "TableConstraints",
    "TableOptions",
    "TablePartitionDimension",
    "TableSlice",
    "DbIOManager",
    "DbTypeHandler",
    "TableRecord",
    "TableSchema",
    "AssetCheckEvaluation",
    "AssetCheckResult",
    "AssetChecksDefinition",
    "AssetCheckSeverity",
    "AssetCheckSpec",
    "asset_check",
    "Backoff",
    "Failure",
    "Jitter",
    "RetryPolicy",
    "RetryRequested",
    "get_dagster_logger",
    "Array",
    "Bool",
    "Enum",
    "EnumValue",
    "Field",
    "Float",
    "Int",
    "Noneable",
    "Permissive",
    "Selector",
    "Shape",
    "String",
    "RunConfig",
    "Config",
    "PermissiveConfig",
    "AssetSelection",
    "JobDefinition",
    "UnresolvedAssetJobDefinition",
    "define_asset_job",
    "RepositoryDefinition",
    "ScheduleDefinition",
    "SensorDefinition",
    "LoggerDefinition",
    "logger",
    "file_relative_path",
    "load_assets_from_current_module",
    "load_assets_from_modules",
    "load_assets_from_package_module",
    "load_assets_from_package_name",
    "with_resources",
    "AllPartitionMapping",
    "AssetExecutionContext",
    "AssetIn",
    "AssetOut",
    "multi_asset",
    "AssetKey",
    "AssetMaterialization",
    "AssetSpec",
    "BackfillPolicy",
    "BackfillPolicyType",
    "AssetsDefinition",
    "ConfigurableIOManager",
    "ConfigurableIOManagerFactory",
    "ConfigurableResource",
    "DagsterInstance",
    "DataVersion",
    "AssetStaleness",
    "DailyPartitionsDefinition",
    "Definitions",
    "dask_executor",
    "in_process_executor",
    "multiprocess_executor",
    "DynamicPartitionsDefinition",
    "EnvVar",
    "ExecuteInProcessResult",
    "FilesystemIOManager",
    "HourlyPartitionsDefinition",
    "IOManager",
    "IOManagerDefinition",
    "InputManager",
    "InputManagerDefinition",
    "input_manager",
    "ResourceDefinition",
    "resource",
    "SourceAsset",
    "observable_source_asset",
    "fs_io_manager",
    "mem_io_manager",
    "IdentityPartitionMapping",
    "InMemoryIOManager",
    "InitResourceContext",
    "InputContext",
    "LastPartitionMapping",
    "MaterializeResult",
    "MetadataValue",
    "MonthlyPartitionsDefinition",
    "MultiPartitionKey",
    "MultiPartitionsDefinition",
    "ObjectStoreIOManager",
    "Output",
    "OutputContext",
    "PartitionKeyRange",
    "PartitionMapping",
    "PartitionsDefinition",
    "ResourceParam",
    "StaticPartitionMapping",
    "StaticPartitionsDefinition",
    "TimeWindow",
    "TimeWindowPartitionMapping",
    "TimeWindowPartitionsDefinition",
    "UPathIOManager",
    "WeeklyPartitionsDefinition",
    "asset",
    "build_asset_context",
    "build_input_context",
    "build_output_context",
    "errors",
    "io_manager",
    "materialize",
    "materialize_to_memory",
    "DagsterError",
    "DagsterEventType",
    "AssetObservation",
    "DagsterExecutionHandleOutputError",
    "DagsterExecutionInterruptedError",
    "DagsterExecutionLoadInputError",
    "DagsterExecutionStepExecutionError",
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
    "DefaultScheduleStatus",
    "DefaultSensorStatus",
    "RunRequest",
    "ScheduleEvaluationContext",
    "SensorEvaluationContext",
    "SkipReason",
    "build_schedule_context",
    "build_sensor_context",
    "schedule",
    "sensor",
    "build_init_resource_context",
    "build_op_context",
    "instance_for_test",
    "repository",
    "AssetMetadataValue",
    "BoolMetadataValue",
    "FloatMetadataValue",
    "IntMetadataValue",
    "JsonMetadataValue",
    "MarkdownMetadataValue",
    "NullMetadataValue",
    "PathMetadataValue",
    "TableMetadataValue",
    "TableSchemaMetadataValue",
    "TextMetadataValue",
    "TimestampMetadataValue",
    "UrlMetadataValue",
]


def _filesystem_io_manager() -> Any:  # a factory: it builds the run's IOManager
    from wharf._io.filesystem import FilesystemIOManager

    return FilesystemIOManager()


# the I/O managers the engine builds itself (it imports no store: wharf._core.io_managers)
BUILT_IN.update(default=_filesystem_io_manager, memory=InMemoryIOManager)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'wharf' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
