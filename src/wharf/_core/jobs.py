"""Asset jobs: ``define_asset_job`` names a selection of assets (with config, tags, an executor
and a partitions definition) that ``Definitions`` resolves into a runnable ``JobDefinition``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wharf._core.retries import check_retry_policy
from wharf._core.selection import AssetSelection
from wharf.errors import DefinitionError

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions
    from wharf._core.materialize import ExecuteInProcessResult

#: the job that covers every asset of a ``Definitions`` (Dagster's name)
IMPLICIT_ASSET_JOB_NAME = "__ASSET_JOB"
_VALID_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def check_job_name(name: Any, what: str = "job") -> str:
    """``name`` if it is a valid job name (letters, digits and ``_``), else a DefinitionError."""
    if not isinstance(name, str) or not _VALID_NAME.match(name):
        msg = f"{what} name {name!r} is not valid: expected letters, digits and '_' only"
        raise DefinitionError(msg, expected="[A-Za-z0-9_]+", got=repr(name))
    return name


def _check_str_mapping(value: Any, what: str, job: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        msg = f"job {job!r}: {what}= must be a mapping of str keys, got {type(value).__name__}"
        raise DefinitionError(msg, expected="a mapping of str keys", got=type(value).__name__)
    return {k: v if isinstance(v, str) else str(v) for k, v in value.items()}


@dataclass(frozen=True)
class UnresolvedAssetJobDefinition:
    """A job over a selection of assets, not yet bound to the assets it selects.

    ``Definitions(jobs=[...])`` resolves it; :meth:`Definitions.get_job_def` returns the
    :class:`JobDefinition` that runs.
    """

    name: str
    selection: AssetSelection
    config: Any = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    partitions_def: Any = None
    executor_def: Any = None
    op_retry_policy: Any = None
    hooks: frozenset[Any] = frozenset()

    def resolve(self, defs: Definitions) -> JobDefinition:
        """The job bound to ``defs``: its selection is checked against the assets now."""
        keys = defs.asset_graph.resolve_selection(self.selection)
        return JobDefinition(self, defs, tuple(keys))


def define_asset_job(  # noqa: PLR0917
    name: str,
    selection: Any = None,
    config: Any = None,
    description: str | None = None,
    tags: Mapping[str, Any] | None = None,
    run_tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    partitions_def: Any = None,
    executor_def: Any = None,
    hooks: Any = None,
    op_retry_policy: Any = None,
) -> UnresolvedAssetJobDefinition:
    """A job that materializes the assets ``selection`` names (every asset if None).

    ``selection`` is anything ``materialize(selection=)`` takes: an :class:`AssetSelection`, a
    string in the selection syntax, keys or assets. ``config`` is the job's default run config.

    Examples:
        >>> import wharf as dg
        >>> @dg.asset
        ... def numbers() -> list[int]:
        ...     return [1, 2]
        >>> job = dg.define_asset_job("numbers_job", selection="numbers")
        >>> defs = dg.Definitions(assets=[numbers], jobs=[job],
        ...                       resources={"io_manager": dg.InMemoryIOManager()})
        >>> defs.get_job_def("numbers_job").execute_in_process().success
        True
    """
    from wharf._core.executors import resolve_executor

    check_job_name(name)
    if partitions_def is not None:
        from wharf._core.partitioning.definitions import check_partitions_def

        partitions_def = check_partitions_def(partitions_def, asset=f"job {name}")
    if executor_def is not None:
        resolve_executor(executor_def)  # a wrong executor is an error here, naming it
    check_retry_policy(op_retry_policy, f"job {name!r}: op")
    try:
        sel = (
            AssetSelection.all() if selection is None else AssetSelection.from_coercible(selection)
        )
    except TypeError as exc:
        msg = f"job {name!r}: selection={selection!r} is not a selection: {exc}"
        raise DefinitionError(
            msg, expected="an AssetSelection, str or keys", got=repr(selection)
        ) from exc
    return UnresolvedAssetJobDefinition(
        name=name,
        selection=sel,
        config=config,
        description=description,
        tags=_check_str_mapping(tags, "tags", name),
        run_tags=_check_str_mapping(run_tags, "run_tags", name),
        metadata=dict(metadata or {}),
        partitions_def=partitions_def,
        executor_def=executor_def,
        op_retry_policy=op_retry_policy,
        hooks=frozenset(hooks or ()),
    )


class JobDefinition:
    """A runnable job: a name, the asset keys it materializes, its defaults, and the
    definitions (resources) it runs with."""

    def __init__(
        self, spec: UnresolvedAssetJobDefinition, defs: Definitions, keys: tuple[Any, ...]
    ) -> None:
        self._spec, self._defs = spec, defs
        self.name = spec.name
        self.asset_keys = keys
        self.description = spec.description
        self.tags = dict(spec.tags)
        self.run_tags = {**spec.tags, **spec.run_tags}
        self.metadata = dict(spec.metadata)
        self.partitions_def = spec.partitions_def
        self.executor_def = spec.executor_def
        self.op_retry_policy = spec.op_retry_policy
        self.config = spec.config

    @property
    def selection(self) -> AssetSelection:
        return self._spec.selection

    def execute_in_process(  # noqa: PLR0917
        self,
        run_config: Any = None,
        instance: Any = None,
        partition_key: str | None = None,
        raise_on_error: bool = True,
        tags: Mapping[str, str] | None = None,
        resources: Mapping[str, Any] | None = None,
        asset_selection: Any = None,
        **kwargs: Any,
    ) -> ExecuteInProcessResult:
        """Run this job's assets in this process (``asset_selection``: a subset of them)."""
        from wharf._core.execution import execute_in_process

        return self.run(
            run_config=run_config, instance=instance, partition_key=partition_key,
            raise_on_error=raise_on_error, tags=tags, resources=resources,
            asset_selection=asset_selection, executor=execute_in_process, **kwargs,
        )  # fmt: skip

    def run(
        self,
        *,
        run_config: Any = None,
        resources: Mapping[str, Any] | None = None,
        asset_selection: Any = None,
        tags: Mapping[str, str] | None = None,
        executor: Any = None,
        **kwargs: Any,
    ) -> ExecuteInProcessResult:
        """Run the job with its defaults (executor, config, tags); the CLI's entry point."""
        keys = list(self.asset_keys)
        if asset_selection is not None:
            sub = set(self._defs.asset_graph.resolve_selection(asset_selection))
            keys = [k for k in keys if k in sub]
        all_resources = {**self._defs.resources, **(resources or {})}
        if executor is None:
            executor = self.executor_def if self.executor_def is not None else self._defs.executor
        result: ExecuteInProcessResult = self._defs.run_materialize(
            keys, all_resources, run_config=run_config if run_config is not None else self.config,
            tags={**self.run_tags, **(tags or {})}, executor=executor,
            op_retry_policy=self.op_retry_policy, **kwargs,
        )  # fmt: skip
        return result

    def __repr__(self) -> str:
        return f"JobDefinition(name={self.name!r}, assets={len(self.asset_keys)})"
