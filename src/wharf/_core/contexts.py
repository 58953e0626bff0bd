"""What assets and I/O managers see while they run: execution, input and output contexts."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wharf._core.keys import AssetKey, CoercibleToAssetKey, to_asset_key
from wharf._core.results import MetadataValue, normalize_metadata
from wharf.errors import MissingResourceError

_LOG = logging.getLogger("wharf")


class Resources:
    """Resources by key, as attributes: ``context.resources.duckdb``."""

    def __init__(self, resources: Mapping[str, Any] | None = None) -> None:
        self._resources = dict(resources or {})

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._resources[key]
        except KeyError:
            known = ", ".join(sorted(self._resources)) or "none"
            msg = f"no resource with key {key!r}: expected one of {known}"
            raise MissingResourceError(msg, io_manager=key, expected=known, got=key) from None

    def __contains__(self, key: str) -> bool:
        return key in self._resources

    def original_dict(self) -> dict[str, Any]:
        return dict(self._resources)


@dataclass(frozen=True)
class TypeInfo:
    """The declared type of an input or output (Dagster's ``dagster_type``)."""

    typing_type: Any = Any

    @property
    def display_name(self) -> str:
        return getattr(self.typing_type, "__name__", str(self.typing_type))


@dataclass
class _ContextBase:
    asset_key_or_none: AssetKey | None = None
    definition_metadata: dict[str, Any] = field(default_factory=dict)
    dagster_type: TypeInfo = field(default_factory=TypeInfo)
    # repr=False: the config may hold secrets resolved from EnvVars.
    resource_config: dict[str, Any] = field(default_factory=dict, repr=False)
    resources: Resources = field(default_factory=Resources)
    log: logging.Logger = _LOG
    step_key: str | None = None
    run_id: str | None = None
    partition_key: str | None = None

    @property
    def asset_key(self) -> AssetKey:
        if self.asset_key_or_none is None:
            msg = "this context belongs to no asset: expected an asset key, got none"
            raise ValueError(msg)
        return self.asset_key_or_none

    @property
    def has_asset_key(self) -> bool:
        return self.asset_key_or_none is not None

    @property
    def metadata(self) -> dict[str, Any]:
        """Alias of :attr:`definition_metadata` (Dagster's older name)."""
        return self.definition_metadata

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None

    @property
    def has_asset_partitions(self) -> bool:
        return self.partition_key is not None

    @property
    def asset_partition_key(self) -> str:
        if self.partition_key is None:
            msg = f"asset {self.asset_key_or_none} is not partitioned in this run"
            raise ValueError(msg)
        return self.partition_key

    def get_asset_identifier(self) -> list[str]:
        """The asset key parts, plus the partition key when there is one."""
        parts = list(self.asset_key.path)
        return [*parts, self.partition_key] if self.partition_key is not None else parts


@dataclass
class OutputContext(_ContextBase):
    """What :meth:`IOManager.handle_output` sees about the value to store."""

    name: str = "result"
    _added_metadata: dict[str, MetadataValue] = field(default_factory=dict)

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Attach metadata to this output's materialization event."""
        self._added_metadata.update(normalize_metadata(metadata))

    def consume_logged_metadata(self) -> dict[str, MetadataValue]:
        out, self._added_metadata = self._added_metadata, {}
        return out

    def get_identifier(self) -> list[str]:
        return (
            self.get_asset_identifier() if self.has_asset_key else [self.step_key or "", self.name]
        )


@dataclass
class InputContext(_ContextBase):
    """What :meth:`IOManager.load_input` sees about the value to load."""

    name: str = "input"
    upstream_output: OutputContext | None = None

    def get_identifier(self) -> list[str]:
        if self.upstream_output is not None:
            return self.upstream_output.get_identifier()
        return self.get_asset_identifier()


@dataclass
class AssetExecutionContext:
    """Passed to an asset whose first parameter is ``context``.

    Examples:
        >>> ctx = build_asset_context()
        >>> ctx.log.name
        'wharf'
    """

    asset_key: AssetKey | None
    resources: Resources = field(default_factory=Resources)
    run_id: str = ""
    log: logging.Logger = _LOG
    partition_key_or_none: str | None = None
    input_keys: dict[str, AssetKey] = field(default_factory=dict)
    _added_metadata: dict[str, MetadataValue] = field(default_factory=dict)

    @property
    def op_execution_context(self) -> AssetExecutionContext:
        return self

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key_or_none is not None

    @property
    def partition_key(self) -> str:
        if self.partition_key_or_none is None:
            msg = f"asset {self.asset_key} is not partitioned in this run: no partition_key"
            raise ValueError(msg)
        return self.partition_key_or_none

    def asset_key_for_input(self, input_name: str) -> AssetKey:
        return self.input_keys[input_name]

    def add_output_metadata(
        self, metadata: Mapping[str, Any], output_name: str | None = None
    ) -> None:
        """Attach metadata to the asset's materialization event."""
        self._added_metadata.update(normalize_metadata(metadata))


def build_asset_context(
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    asset_key: CoercibleToAssetKey | None = None,
) -> AssetExecutionContext:
    """An :class:`AssetExecutionContext` for calling an asset function directly in a test."""
    return AssetExecutionContext(
        asset_key=to_asset_key(asset_key) if asset_key is not None else None,
        resources=Resources(resources),
        partition_key_or_none=partition_key,
    )


def build_output_context(
    *,
    asset_key: CoercibleToAssetKey | None = None,
    name: str = "result",
    definition_metadata: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    dagster_type: Any = None,
    resource_config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    step_key: str | None = None,
    run_id: str | None = None,
    partition_key: str | None = None,
) -> OutputContext:
    """An :class:`OutputContext` for testing an I/O manager's ``handle_output`` directly.

    Examples:
        >>> build_output_context(asset_key="sales").asset_key
        AssetKey(['sales'])
    """
    return OutputContext(
        asset_key_or_none=to_asset_key(asset_key) if asset_key is not None else None,
        name=name,
        definition_metadata=dict(definition_metadata or metadata or {}),
        dagster_type=TypeInfo(dagster_type if dagster_type is not None else Any),
        resource_config=dict(resource_config or {}),
        resources=Resources(resources),
        step_key=step_key,
        run_id=run_id,
        partition_key=partition_key,
    )


def build_input_context(
    *,
    name: str | None = None,
    asset_key: CoercibleToAssetKey | None = None,
    upstream_output: OutputContext | None = None,
    definition_metadata: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    dagster_type: Any = None,
    resource_config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
) -> InputContext:
    """An :class:`InputContext` for testing an I/O manager's ``load_input`` directly.

    Examples:
        >>> ctx = build_input_context(asset_key="sales", dagster_type=int)
        >>> ctx.asset_key, ctx.dagster_type.typing_type
        (AssetKey(['sales']), <class 'int'>)
    """
    key = to_asset_key(asset_key) if asset_key is not None else None
    if key is None and upstream_output is not None and upstream_output.has_asset_key:
        key = upstream_output.asset_key
    return InputContext(
        asset_key_or_none=key,
        name=name or "input",
        upstream_output=upstream_output,
        definition_metadata=dict(definition_metadata or metadata or {}),
        dagster_type=TypeInfo(dagster_type if dagster_type is not None else Any),
        resource_config=dict(resource_config or {}),
        resources=Resources(resources),
        partition_key=partition_key,
    )
