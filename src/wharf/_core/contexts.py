"""What assets and I/O managers see while they run: execution, input and output contexts."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from wharf._core.keys import AssetKey, CoercibleToAssetKey, to_asset_key
from wharf._core.partitioning import info as parts
from wharf._core.partitioning.definitions import PartitionKeyRange, PartitionsDefinition
from wharf._core.results import MetadataValue, normalize_metadata
from wharf.errors import ContextError, InvalidInvocationError, UnknownResourceError

if TYPE_CHECKING:
    from wharf._core.partitioning.time_windows import TimeWindow

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
            raise UnknownResourceError(msg, io_manager=key, expected=known, got=key) from None

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
    #: the run's partition key (for an input: the downstream asset's partition)
    partition_key: str | None = None
    #: the partitions of this context's asset (for an input: the upstream partitions to load);
    #: None when the asset is not partitioned
    asset_partition_keys_or_none: tuple[str, ...] | None = None
    asset_partitions_def: PartitionsDefinition | None = None
    #: the :class:`~wharf._core.instance.DagsterInstance` of the run
    instance: Any = field(default=None, repr=False)
    #: the op (node) definition of the step, if the step came from one
    op_def: Any = field(default=None, repr=False)
    #: the output's (or input's) config from the run config, if any
    config: Any = None

    @property
    def asset_key(self) -> AssetKey:
        if self.asset_key_or_none is None:
            msg = "this context belongs to no asset: expected an asset key, got none"
            raise ContextError(msg, expected="an asset key", got="none")
        return self.asset_key_or_none

    @property
    def has_asset_key(self) -> bool:
        return self.asset_key_or_none is not None

    def __enter__(self) -> Self:
        """Dagster's builders also work as context managers; nothing is held open."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing to release."""

    @property
    def metadata(self) -> dict[str, Any]:
        """Alias of :attr:`definition_metadata` (Dagster's older name)."""
        return self.definition_metadata

    @property
    def has_partition_key(self) -> bool:
        """Whether the run has a partition key."""
        return self.partition_key is not None

    @property
    def has_asset_partitions(self) -> bool:
        """Whether this context's asset is partitioned (its partitions are being stored/loaded)."""
        return self.asset_partition_keys_or_none is not None

    def _label(self) -> str:
        return (
            f"asset {self.asset_key_or_none.to_user_string()!r}"
            if self.asset_key_or_none
            else "this context"
        )

    @property
    def asset_partition_keys(self) -> list[str]:
        """The asset's partitions to store or load (``MultiPartitionKey`` for multi)."""
        if self.asset_partition_keys_or_none is None:
            raise parts.not_partitioned(self._label())
        return parts.typed_keys(self.asset_partitions_def, self.asset_partition_keys_or_none)

    @property
    def asset_partition_key(self) -> str:
        """The asset's one partition (an error when it has several, or none)."""
        return parts.one_key(self.asset_partition_keys, self._label())

    @property
    def asset_partition_key_range(self) -> PartitionKeyRange:
        return parts.key_range(self.asset_partition_keys, self._label())

    @property
    def asset_partitions_time_window(self) -> TimeWindow:
        """From the start of the first partition's window to the end of the last one's."""
        return parts.time_window(
            self.asset_partitions_def, self.asset_partition_keys, self._label()
        )

    def get_asset_identifier(self) -> list[str]:
        """The asset key parts, plus the partition key when the asset is partitioned."""
        path = list(self.asset_key.path)
        return [*path, self.asset_partition_key] if self.has_asset_partitions else path


@dataclass
class OutputContext(_ContextBase):
    """What :meth:`IOManager.handle_output` sees about the value to store."""

    #: the output's version (Dagster's ``version``), if any
    version: str | None = None
    #: metadata given for this output alone (Dagster's ``output_metadata``)
    output_metadata: dict[str, Any] = field(default_factory=dict)
    name: str = "result"
    _added_metadata: dict[str, MetadataValue] = field(default_factory=dict)
    #: for one value of a dynamic output, its mapping key
    mapping_key: str | None = None

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Attach metadata to this output's materialization event."""
        self._added_metadata.update(normalize_metadata(metadata))

    def consume_logged_metadata(self) -> dict[str, MetadataValue]:
        out, self._added_metadata = self._added_metadata, {}
        return out

    def get_identifier(self) -> list[str]:
        """The asset's identifier, or for an op output ``[run_id, step_key, name]`` (and the
        mapping key of a dynamic value), as Dagster builds it."""
        if self.has_asset_key:
            return self.get_asset_identifier()
        head = [self.run_id] if self.run_id else []
        tail = [self.mapping_key] if self.mapping_key else []
        return [*head, self.step_key or "", self.name, *tail]


@dataclass
class InputContext(_ContextBase):
    """What :meth:`IOManager.load_input` sees about the value to load."""

    name: str = "input"
    upstream_output: OutputContext | None = None
    #: wharf: the store's number of the earlier version to load (``load_asset_value(version=)``,
    #: see :mod:`wharf._core.stored_versions`); None loads the current value
    stored_version: int | None = None

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
    #: the asset's partitions definition (None: not partitioned)
    partitions_def: PartitionsDefinition | None = None
    #: input name -> (upstream partition keys loaded, upstream partitions definition)
    input_partitions: dict[str, tuple[tuple[str, ...] | None, PartitionsDefinition | None]] = field(
        default_factory=dict
    )
    #: the :class:`~wharf._core.instance.DagsterInstance` of the run
    instance: Any = field(default=None, repr=False)
    partition_keys_or_none: tuple[str, ...] | None = None
    #: the asset's run config (a ``Config`` as a dict, or the checked ``config_schema`` dict)
    op_config: Any = None
    #: the assets and output names this run of the step materializes (a multi-asset subset)
    selected_asset_keys: set[AssetKey] = field(default_factory=set)
    selected_output_names: set[str] = field(default_factory=set)
    #: the node (asset, multi-asset or op) definition of the step
    op_def: Any = field(default=None, repr=False)
    step_key: str | None = None
    run_tags: dict[str, str] = field(default_factory=dict)
    #: output name -> metadata added with ``add_output_metadata(..., output_name=)``
    _output_metadata: dict[str, dict[str, MetadataValue]] = field(default_factory=dict)
    #: ``AssetMaterialization`` / ``AssetObservation`` events given to :meth:`log_event`
    _logged_events: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.partition_keys_or_none is None and self.partition_key_or_none is not None:
            self.partition_keys_or_none = (self.partition_key_or_none,)

    @property
    def op_execution_context(self) -> AssetExecutionContext:
        return self

    def __enter__(self) -> AssetExecutionContext:
        """``with build_asset_context() as context:`` works as in Dagster."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing to release."""

    def _label(self) -> str:
        return f"asset {self.asset_key.to_user_string()!r}" if self.asset_key else "this asset"

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key_or_none is not None

    @property
    def partition_key(self) -> str:
        """The run's partition key (``MultiPartitionKey`` for a multi-partitioned asset)."""
        if self.partition_key_or_none is None:
            many = self.partition_keys_or_none
            if many:
                msg = (
                    f"{self._label()} runs {len(many)} partitions ({many[0]!r} to "
                    f"{many[-1]!r}) in this run, so it has no one partition_key: expected "
                    "context.partition_key_range, partition_keys or partition_time_window"
                )
                raise ContextError(msg, expected="one partition", got=f"{len(many)} partitions")
            msg = f"{self._label()} is not partitioned in this run: no partition_key"
            raise ContextError(msg, expected="a partition key", got="none")
        return parts.typed_keys(self.partitions_def, [self.partition_key_or_none])[0]

    @property
    def partition_keys(self) -> list[str]:
        """The partitions this run materializes (several in a range run)."""
        if self.partition_keys_or_none is None:
            raise parts.not_partitioned(self._label())
        return parts.typed_keys(self.partitions_def, self.partition_keys_or_none)

    @property
    def partition_key_range(self) -> PartitionKeyRange:
        return parts.key_range(self.partition_keys, self._label())

    @property
    def partition_time_window(self) -> TimeWindow:
        """The time window of the run's partition (time-window partitions only)."""
        return parts.time_window(self.partitions_def, self.partition_keys, self._label())

    @property
    def asset_partition_key_range(self) -> PartitionKeyRange:
        """Dagster's older name of :attr:`partition_key_range`."""
        return self.partition_key_range

    @property
    def has_partition_key_range(self) -> bool:
        return self.partition_keys_or_none is not None

    # Dagster's per-output names; an asset has one output, so they equal the above.
    def asset_partition_key_for_output(self, output_name: str = "result") -> str:
        return self.partition_key

    def asset_partition_keys_for_output(self, output_name: str = "result") -> list[str]:
        return self.partition_keys

    def asset_partitions_time_window_for_output(self, output_name: str = "result") -> TimeWindow:
        return self.partition_time_window

    def asset_partition_key_range_for_output(
        self, output_name: str = "result"
    ) -> PartitionKeyRange:
        return self.partition_key_range

    def asset_partitions_def_for_output(
        self, output_name: str = "result"
    ) -> PartitionsDefinition | None:
        return self.partitions_def

    def _input(self, input_name: str) -> tuple[tuple[str, ...], PartitionsDefinition | None]:
        keys, pdef = self.input_partitions.get(input_name, (None, None))
        if keys is None:
            raise parts.not_partitioned(f"input {input_name!r} of {self._label()}")
        return keys, pdef

    def asset_partition_keys_for_input(self, input_name: str) -> list[str]:
        """The upstream partitions loaded for ``input_name`` (chosen by its partition mapping)."""
        keys, pdef = self._input(input_name)
        return parts.typed_keys(pdef, keys)

    def asset_partition_key_for_input(self, input_name: str) -> str:
        return parts.one_key(self.asset_partition_keys_for_input(input_name), input_name)

    def asset_partition_key_range_for_input(self, input_name: str) -> PartitionKeyRange:
        return parts.key_range(self.asset_partition_keys_for_input(input_name), input_name)

    def asset_partitions_time_window_for_input(self, input_name: str) -> TimeWindow:
        keys, pdef = self._input(input_name)
        return parts.time_window(pdef, keys, f"input {input_name!r}")

    def asset_partitions_def_for_input(self, input_name: str) -> PartitionsDefinition | None:
        return self.input_partitions.get(input_name, (None, None))[1]

    def asset_key_for_input(self, input_name: str) -> AssetKey:
        return self.input_keys[input_name]

    @property
    def is_subset(self) -> bool:
        """Whether this run of a multi-asset materializes only some of its assets."""
        outs = getattr(self.op_def, "outs", None)
        return isinstance(outs, Mapping) and len(self.selected_output_names) < len(outs)

    def asset_key_for_output(self, output_name: str = "result") -> AssetKey:
        """The asset key of output ``output_name`` (a multi-asset's, or the one asset's)."""
        outs = getattr(self.op_def, "outs", None)
        if isinstance(outs, Mapping) and output_name in outs:
            return AssetKey.from_coercible(outs[output_name].key)
        if self.asset_key is None:
            msg = f"{self._label()} has no output {output_name!r}"
            raise ContextError(msg, expected="an output name", got=output_name)
        return self.asset_key

    def output_for_asset_key(self, asset_key: Any) -> str:
        """The name of the output that materializes ``asset_key``."""
        key = AssetKey.from_coercible(asset_key)
        for name, out in (getattr(self.op_def, "outs", None) or {}).items():
            if out.key == key:
                return str(name)
        if key == self.asset_key:
            return "result"
        msg = f"{self._label()} does not materialize asset {key.to_user_string()!r}"
        raise ContextError(msg, expected="one of its assets", got=key.to_user_string())

    def log_event(self, event: Any) -> None:
        """Report an ``AssetMaterialization`` or ``AssetObservation`` from the body, as
        yielding it would (it becomes an event of the step's run)."""
        from wharf._core.events import AssetMaterialization, AssetObservation

        if not isinstance(event, AssetMaterialization | AssetObservation):
            name = type(event).__name__
            msg = (
                f"{self._label()}: context.log_event({name}): expected an AssetMaterialization "
                "or AssetObservation"
            )
            raise InvalidInvocationError(msg, expected="an asset event", got=name)
        self._logged_events.append(event)

    def add_output_metadata(
        self, metadata: Mapping[str, Any], output_name: str | None = None
    ) -> None:
        """Attach metadata to the materialization of the step's output ``output_name`` (an
        asset's one output when not given)."""
        if output_name is None:
            self._added_metadata.update(normalize_metadata(metadata))
        else:
            self._output_metadata.setdefault(output_name, {}).update(normalize_metadata(metadata))


def build_asset_context(  # noqa: PLR0917 (Dagster's positional order)
    resources: Mapping[str, Any] | None = None,
    resources_config: Mapping[str, Any] | None = None,
    asset_config: Any = None,
    instance: Any = None,
    partition_key: str | None = None,
    partition_key_range: PartitionKeyRange | None = None,
    run_tags: Mapping[str, str] | None = None,
    event_loop: Any = None,
    run_id: str | None = None,
    *,
    asset_key: CoercibleToAssetKey | None = None,
    partitions_def: PartitionsDefinition | None = None,
) -> AssetExecutionContext:
    """An :class:`AssetExecutionContext` for calling an asset function directly in a test.

    Dagster's arguments, in Dagster's order: ``asset_config`` is what ``context.op_config``
    shows (a ``Config`` as its dict); ``resources_config`` and ``event_loop`` are accepted and
    not used. ``asset_key`` and ``partitions_def`` (wharf extras, keyword-only) name the asset
    and give
    ``partition_time_window`` something to compute with. Also a context manager.

    Examples:
        >>> from wharf._core.partitioning.time_windows import DailyPartitionsDefinition
        >>> days = DailyPartitionsDefinition(start_date="2024-01-01")
        >>> ctx = build_asset_context(partition_key="2024-01-02", partitions_def=days)
        >>> ctx.partition_time_window.end.date().isoformat()
        '2024-01-03'
        >>> with build_asset_context(asset_config={"rows": 3}, run_tags={"team": "a"}) as ctx:
        ...     ctx.op_config, ctx.run_tags
        ({'rows': 3}, {'team': 'a'})
    """
    del resources_config, event_loop
    keys = None
    if partition_key_range is not None:
        if partitions_def is not None:
            keys = tuple(partitions_def.get_partition_keys_in_range(partition_key_range))
        else:
            keys = tuple(dict.fromkeys(partition_key_range))
    return AssetExecutionContext(
        asset_key=to_asset_key(asset_key) if asset_key is not None else None,
        resources=Resources(resources),
        run_id=run_id or "EPHEMERAL",
        partition_key_or_none=partition_key,
        partitions_def=partitions_def,
        instance=instance,
        partition_keys_or_none=keys,
        op_config=_plain_config(asset_config),
        run_tags=dict(run_tags or {}),
    )


def _plain_config(config: Any) -> Any:
    dump = getattr(config, "model_dump", None)
    return dump() if callable(dump) else config


def build_op_context(  # noqa: PLR0917 (Dagster's positional order)
    resources: Mapping[str, Any] | None = None,
    op_config: Any = None,
    resources_config: Mapping[str, Any] | None = None,
    instance: Any = None,
    config: Any = None,
    partition_key: str | None = None,
    partition_key_range: PartitionKeyRange | None = None,
    mapping_key: str | None = None,
    run_tags: Mapping[str, str] | None = None,
    event_loop: Any = None,
) -> Any:
    """A context (an ``OpExecutionContext``) for calling an op (or asset) function directly
    in a test, as Dagster's.

    ``op_config`` (or its alias ``config``) is what ``context.op_config`` shows;
    ``mapping_key`` is what ``context.get_mapping_key()`` gives; ``resources_config`` and
    ``event_loop`` are accepted and not used.

    Examples:
        >>> ctx = build_op_context(op_config={"n": 2}, resources={"greeting": "hi"})
        >>> ctx.op_config, ctx.resources.greeting
        ({'n': 2}, 'hi')
    """
    if op_config is not None and config is not None:
        msg = "build_op_context: give op_config or config, not both"
        raise InvalidInvocationError(msg, expected="op_config or config", got="both")
    import dataclasses

    from wharf._core.ops import OpExecutionContext

    made = build_asset_context(
        resources, resources_config, op_config if op_config is not None else config, instance,
        partition_key, partition_key_range, run_tags, event_loop,
    )  # fmt: skip
    ctx = OpExecutionContext(**{f.name: getattr(made, f.name) for f in dataclasses.fields(made)})
    ctx.mapping_key = mapping_key
    return ctx


def build_init_resource_context(
    config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    instance: Any = None,
) -> Any:
    """An ``InitResourceContext`` for testing a resource or I/O manager factory directly.

    Examples:
        >>> ctx = build_init_resource_context(config={"base": "/tmp"}, resources={"n": 1})
        >>> ctx.resource_config, ctx.resources.n
        ({'base': '/tmp'}, 1)
    """
    from wharf._core.config import InitResourceContext

    return InitResourceContext(
        resource_config=dict(config or {}), resources=Resources(resources), instance=instance
    )


def build_output_context(  # noqa: PLR0917 (Dagster's positional order)
    step_key: str | None = None,
    name: str | None = None,
    definition_metadata: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    mapping_key: str | None = None,
    config: Any = None,
    dagster_type: Any = None,
    version: str | None = None,
    resource_config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    op_def: Any = None,
    asset_key: CoercibleToAssetKey | None = None,
    partition_key: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    output_metadata: Mapping[str, Any] | None = None,
    *,
    asset_partitions_def: PartitionsDefinition | None = None,
) -> OutputContext:
    """An :class:`OutputContext` for testing an I/O manager's ``handle_output`` directly.

    Every argument of Dagster's, in Dagster's order (``metadata`` is the older name of
    ``definition_metadata``); ``asset_partitions_def`` is a wharf extra. Also a context manager.

    Examples:
        >>> build_output_context(asset_key="sales").asset_key
        AssetKey(['sales'])
        >>> with build_output_context(name="out", output_metadata={"rows": 2}) as ctx:
        ...     ctx.name, ctx.output_metadata
        ('out', {'rows': 2})
    """
    return OutputContext(
        asset_key_or_none=to_asset_key(asset_key) if asset_key is not None else None,
        name=name or "result",
        definition_metadata=dict(definition_metadata or metadata or {}),
        dagster_type=TypeInfo(dagster_type if dagster_type is not None else Any),
        resource_config=dict(resource_config or {}),
        resources=Resources(resources),
        step_key=step_key,
        run_id=run_id,
        partition_key=partition_key,
        asset_partition_keys_or_none=(partition_key,) if partition_key is not None else None,
        asset_partitions_def=asset_partitions_def,
        op_def=op_def,
        config=config,
        mapping_key=mapping_key,
        version=version,
        output_metadata=dict(output_metadata or {}),
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
    asset_partition_key_range: PartitionKeyRange | None = None,
    asset_partitions_def: PartitionsDefinition | None = None,
    asset_partition_keys: Sequence[str] | None = None,
) -> InputContext:
    """An :class:`InputContext` for testing an I/O manager's ``load_input`` directly.

    The upstream partitions to load are ``asset_partition_keys`` (a wharf extra), else the keys
    of ``asset_partition_key_range`` (in ``asset_partitions_def``), else ``partition_key``.

    Examples:
        >>> ctx = build_input_context(asset_key="sales", dagster_type=int)
        >>> ctx.asset_key, ctx.dagster_type.typing_type
        (AssetKey(['sales']), <class 'int'>)
    """
    key = to_asset_key(asset_key) if asset_key is not None else None
    if key is None and upstream_output is not None and upstream_output.has_asset_key:
        key = upstream_output.asset_key
    keys: tuple[str, ...] | None = None
    if asset_partition_keys is not None:
        keys = tuple(asset_partition_keys)
    elif asset_partition_key_range is not None:
        rng = asset_partition_key_range
        found = (
            asset_partitions_def.get_partition_keys_in_range(rng) if asset_partitions_def else rng
        )
        keys = tuple(dict.fromkeys(found))
    elif partition_key is not None:
        keys = (partition_key,)
    return InputContext(
        asset_key_or_none=key,
        name=name or "input",
        upstream_output=upstream_output,
        definition_metadata=dict(definition_metadata or metadata or {}),
        dagster_type=TypeInfo(dagster_type if dagster_type is not None else Any),
        resource_config=dict(resource_config or {}),
        resources=Resources(resources),
        partition_key=partition_key,
        asset_partition_keys_or_none=keys,
        asset_partitions_def=asset_partitions_def,
    )
