"""``Definitions``: the assets, resources, jobs, schedules and sensors of a code location,
validated together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from wharf._core.assets import AssetsDefinition
from wharf._core.definitions_checks import (
    IMPLICIT_ASSET_JOB_NAME,
    RepositoryDefinition,
    check_entries,
    check_loggers,
    resolve_jobs,
)
from wharf._core.executors import resolve_executor
from wharf._core.graph import AssetGraph
from wharf._core.jobs import JobDefinition
from wharf._core.keys import AssetKey, to_asset_key
from wharf._core.loading import bound_resources
from wharf._core.resources import DEFAULT_IO_MANAGER_KEY, check_resource_keys
from wharf.errors import DefinitionError, UnknownAssetError

if TYPE_CHECKING:
    from wharf._core.staleness import AssetStaleness
    from wharf._core.stored_versions import StoredVersion, VersionSpec


class Definitions:
    """Assets and the resources (I/O managers among them) they run with.

    Validated when built: duplicate keys, cycles and inputs that name no asset are errors here.
    Resources may be bound later (a test gives them to ``materialize``): a resource key without
    a resource is an error when the definitions run, are validated (:meth:`validate_loadable`)
    or are loaded by the CLI, before anything runs.

    Examples:
        >>> import wharf as dg
        >>> @dg.asset
        ... def numbers() -> list[int]:
        ...     return [1, 2, 3]
        >>> io = dg.InMemoryIOManager()
        >>> defs = dg.Definitions(assets=[numbers], resources={"io_manager": io})
        >>> defs.materialize().success
        True
    """

    def __init__(
        self,
        assets: Iterable[Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        executor: Any = None,
        *,
        schedules: Iterable[Any] | None = None,
        sensors: Iterable[Any] | None = None,
        jobs: Iterable[Any] | None = None,
        asset_checks: Iterable[Any] | None = None,
        loggers: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.assets = list(_entries(assets, "assets"))
        self.resources = bound_resources(self.assets, _mapping(resources, "resources"))
        if executor is not None:
            resolve_executor(executor)
        self.executor = executor
        self.metadata = dict(_mapping(metadata, "metadata"))
        self.loggers = check_loggers(_mapping(loggers, "loggers"))
        self.asset_checks = check_entries(_entries(asset_checks, "asset_checks"), "asset_checks")
        self.schedules = check_entries(_entries(schedules, "schedules"), "schedules")
        self.sensors = check_entries(_entries(sensors, "sensors"), "sensors")
        # runs get the checks with the assets (materialize takes both, as Dagster's does)
        self.assets.extend(c for c in self.asset_checks if c not in self.assets)
        self.asset_graph = AssetGraph(self.assets)
        # resources may be bound later (a test supplies them): a missing one is an error when
        # the definitions are run, validated (validate_loadable) or loaded by the CLI
        self._jobs = resolve_jobs(self, check_entries(_entries(jobs, "jobs"), "jobs"))

    def validate_resources(self) -> None:
        """Every resource the assets, inputs and I/O managers need is given.

        Raises:
            MissingResourceError: a key without a resource, naming the asset and the key.
        """
        check_resource_keys(self.asset_graph, {*self.resources, DEFAULT_IO_MANAGER_KEY})
        from wharf._core.resources import RunResources

        RunResources(self.resources, self.resources, run_id="validate")  # what factories require
        for job in self.jobs:  # a job of ops: what its ops need
            check = getattr(job, "check_resources", None)
            if callable(check):
                check()

    @staticmethod
    def validate_loadable(defs: Definitions) -> None:
        """Check ``defs`` as Dagster's ``Definitions.validate_loadable`` does: keys, cycles,
        jobs (checked when built) and every resource requirement.

        Examples:
            >>> import wharf as dg
            >>> @dg.asset(io_manager_key="warehouse")
            ... def a() -> int:
            ...     return 1
            >>> defs = dg.Definitions(assets=[a])  # resources may be bound later
            >>> dg.Definitions.validate_loadable(defs)  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            wharf.errors.MissingResourceError: asset 'a' needs the io_manager_key 'warehouse'...
        """
        defs.validate_resources()

    # -- jobs ----------------------------------------------------------------------------
    @property
    def jobs(self) -> list[JobDefinition]:
        """The jobs, each resolved against these assets (schedules' and sensors' jobs too)."""
        return [j for n, j in self._jobs.items() if n != IMPLICIT_ASSET_JOB_NAME]

    def get_job_def(self, name: str) -> JobDefinition:
        """The job called ``name`` (``__ASSET_JOB``: every asset).

        Raises:
            UnknownAssetError: no job has that name (a ``KeyError``).
        """
        job = self._jobs.get(name)
        if job is None:
            known = ", ".join(sorted(n for n in self._jobs if n != IMPLICIT_ASSET_JOB_NAME))
            msg = f"no job named {name!r} in these definitions: expected one of [{known}]"
            raise UnknownAssetError(msg, expected=known, got=name)
        return job

    def resolve_implicit_global_asset_job_def(self) -> JobDefinition:
        """The job that materializes every asset of these definitions."""
        return self._jobs[IMPLICIT_ASSET_JOB_NAME]

    def get_repository_def(self) -> RepositoryDefinition:
        """These definitions as Dagster's repository: jobs, schedules, sensors, asset graph."""
        return RepositoryDefinition(self)

    def get_schedule_def(self, name: str) -> Any:
        return _named(self.schedules, name, "schedule")

    def get_sensor_def(self, name: str) -> Any:
        return _named(self.sensors, name, "sensor")

    def run_materialize(self, keys: Any, resources: Mapping[str, Any], **kwargs: Any) -> Any:
        """Materialize ``keys`` of these assets with ``resources`` (a job's run)."""
        from wharf._core.materialize import materialize

        kwargs.setdefault("executor", self.executor)
        return materialize(self.assets, resources, list(keys), **kwargs)

    def get_assets_def(self, key: Any) -> AssetsDefinition:
        """The asset definition with this key."""
        item = self._item(key)
        if not isinstance(item, AssetsDefinition):
            name = item.key.to_user_string()
            msg = f"{name!r} is an AssetSpec (made elsewhere), not an asset these definitions run"
            raise UnknownAssetError(msg, asset=name, expected="an @asset", got="AssetSpec")
        return getattr(item, "_node", None) or item

    def _item(self, key: Any) -> Any:
        """The asset or spec with this key."""
        asset_key = to_asset_key(key) if not isinstance(key, str) else to_asset_key(key.split("/"))
        item = self.asset_graph.by_key.get(asset_key)
        if item is None:
            known = ", ".join(sorted(k.to_user_string() for k in self.asset_graph.by_key))
            msg = (
                f"no asset {asset_key.to_user_string()!r} in these definitions: "
                f"expected one of [{known}]"
            )
            raise UnknownAssetError(msg, asset=asset_key.to_user_string(), expected=known)
        return item

    def materialize(self, selection: Any = None, **kwargs: Any) -> Any:
        """Materialize these definitions' assets (or a selection) with their resources."""
        from wharf._core.materialize import materialize

        kwargs.setdefault("executor", self.executor)
        return materialize(self.assets, self.resources, selection, **kwargs)

    def load_asset_value(
        self,
        asset_key: Any,
        *,
        python_type: Any = Any,
        partition_key: str | None = None,
        instance: Any = None,
        version: VersionSpec | None = None,
    ) -> Any:
        """Load an asset's stored value through its I/O manager, outside any run, as
        ``python_type`` (by default the asset's return annotation).

        For a partitioned asset: ``partition_key``'s partition, or every partition without one.
        ``version`` (wharf) loads an earlier version from a store that keeps them: a version
        number, ``-N`` (the N-th previous), a run id or a ``datetime`` (see
        :mod:`wharf._core.stored_versions`); a store that keeps none says so.
        """
        key = self._item(asset_key).key  # an AssetSpec too: its value is loaded, not computed
        with self.get_asset_value_loader(instance, keys=[key]) as loader:
            return loader.load_asset_value(
                key, python_type=python_type, partition_key=partition_key, version=version
            )

    def get_asset_versions(self, asset_key: Any) -> list[StoredVersion]:
        """The versions of an asset's stored value its I/O manager keeps, newest first (wharf:
        Delta Lake commits, Iceberg snapshots); a manager that keeps none raises
        :class:`~wharf.errors.StoredValueNotFoundError` naming it."""
        key = self._item(asset_key).key
        with self.get_asset_value_loader(keys=[key]) as loader:
            return loader.asset_versions(key)

    def get_staleness(
        self, keys: Iterable[Any] | None = None, *, partition_key: str | None = None,
        instance: Any = None,
    ) -> dict[AssetKey, AssetStaleness]:  # fmt: skip
        """Whether each asset's stored value is ``fresh``, ``stale`` (with the reasons),
        ``never stored`` or ``failed``, from the versions in the run history.

        Examples:
            >>> import tempfile, wharf as dg
            >>> @dg.asset(code_version="1")
            ... def n() -> int:
            ...     return 3
            >>> defs = dg.Definitions(assets=[n])
            >>> inst = dg.DagsterInstance.ephemeral()
            >>> defs.get_staleness(instance=inst)[dg.AssetKey("n")].status
            'never stored'
        """
        from wharf._core.instance import DagsterInstance
        from wharf._core.staleness import staleness

        instance = instance if instance is not None else DagsterInstance.get()
        wanted = [self._item(k).key for k in keys] if keys is not None else None
        history = instance.run_history()
        try:
            return staleness(self.asset_graph, history, wanted, partition_key=partition_key,
                             run=_PartitionContext(instance))  # fmt: skip
        finally:
            if history is not None:
                history.close()

    def get_asset_value_loader(
        self, instance: Any = None, *, keys: Iterable[Any] | None = None
    ) -> AssetValueLoader:
        """A context manager that loads many assets' values with resources set up once."""
        return AssetValueLoader(self, instance, keys)


class AssetValueLoader:
    """Loads stored asset values; the I/O managers are set up on enter, torn down on exit.

    Examples:
        >>> import wharf as dg
        >>> @dg.asset
        ... def n() -> int:
        ...     return 3
        >>> defs = dg.Definitions(assets=[n], resources={"io_manager": dg.InMemoryIOManager()})
        >>> _ = defs.materialize()
        >>> with defs.get_asset_value_loader() as loader:
        ...     loader.load_asset_value("n")
        3
    """

    def __init__(self, defs: Definitions, instance: Any, keys: Iterable[Any] | None) -> None:
        from wharf._core.execution import new_run_id
        from wharf._core.resources import RunResources, io_manager_key_of, with_default_io_manager

        self._defs, self._instance = defs, instance
        graph = defs.asset_graph
        wanted = [defs._item(k).key for k in keys] if keys is not None else list(graph.by_key)
        im_keys = {io_manager_key_of(graph, k) for k in wanted}
        self._resources = RunResources(
            with_default_io_manager(defs.resources), im_keys, new_run_id(), instance
        )

    def __enter__(self) -> AssetValueLoader:
        self._resources.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._resources.__exit__(None, None, None)

    def load_asset_value(
        self, asset_key: Any, *, python_type: Any = Any, partition_key: str | None = None,
        version: VersionSpec | None = None, **_: Any,
    ) -> Any:  # fmt: skip
        """The stored value of ``asset_key`` as ``python_type`` (default: its annotation);
        ``version``: an earlier one (see :meth:`Definitions.load_asset_value`)."""
        from wharf._core.execution import RunContext, load_asset_input
        from wharf._core.step_io import manager_name
        from wharf._core.stored_versions import pick_version

        asset = self._defs._item(asset_key)
        if python_type is Any and isinstance(asset, AssetsDefinition):
            python_type = asset.return_annotation  # as ExecuteInProcessResult.asset_value
        res = self._resources
        number = None
        if version is not None:
            label = asset.key.to_user_string()
            name = manager_name(self._manager(asset.key))
            found = self.asset_versions(asset.key)
            number = pick_version(found, version, asset=label, io_manager=name).version
        run = RunContext(self._defs.asset_graph, res, res.run_id, partition_key, self._instance)
        partitions = run.upstream_partitions(asset.key, None)
        return load_asset_input(
            run, asset.key, annotation=python_type, partitions=partitions, stored_version=number
        )

    def _manager(self, key: AssetKey) -> Any:
        from wharf._core.resources import io_manager_key_of

        im_key = io_manager_key_of(self._defs.asset_graph, key)
        return self._resources.io_manager(im_key, asset=key.to_user_string())

    def asset_versions(self, asset_key: Any) -> list[StoredVersion]:
        """The versions of ``asset_key``'s stored value its I/O manager keeps, newest first."""
        from wharf._core.step_io import manager_name
        from wharf._core.stored_versions import keeps_no_versions

        item = self._defs._item(asset_key)
        manager = self._manager(item.key)
        lister = getattr(manager, "stored_versions", None)
        if lister is None:
            raise keeps_no_versions(item.key.to_user_string(), manager_name(manager))
        meta = dict(getattr(item, "metadata", {}) or {})
        parts = getattr(item, "partitions_def", None) is not None
        found: list[StoredVersion] = lister(item.key, meta, partitioned=parts)
        return found


class _PartitionContext:
    def __init__(self, instance: Any) -> None:
        self.instance = instance


def _entries(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        msg = f"Definitions({what}={value!r}): expected a list, got {type(value).__name__}"
        raise DefinitionError(msg, expected="a list", got=type(value).__name__)
    return list(value)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        msg = f"Definitions({what}={value!r}): expected a dict, got {type(value).__name__}"
        raise DefinitionError(msg, expected="a dict", got=type(value).__name__)
    for key in value:
        if not isinstance(key, str):
            msg = f"Definitions({what}=...): key {key!r} is not a str: expected str keys"
            raise DefinitionError(msg, expected="str keys", got=type(key).__name__)
    return dict(value)


def _named(items: list[Any], name: str, what: str) -> Any:
    for item in items:
        if item.name == name:
            return item
    known = ", ".join(sorted(i.name for i in items))
    msg = f"no {what} named {name!r} in these definitions: expected one of [{known}]"
    raise UnknownAssetError(msg, expected=known, got=name)
