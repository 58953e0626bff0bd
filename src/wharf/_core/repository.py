"""``@repository``: Dagster's older way to group definitions, as a thin shell over Definitions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload

from wharf._core.assets import AssetsDefinition, AssetSpec
from wharf._core.definitions import Definitions
from wharf._core.definitions_checks import RepositoryDefinition
from wharf._core.jobs import JobDefinition, UnresolvedAssetJobDefinition
from wharf._core.schedules import ScheduleDefinition, SensorDefinition
from wharf.errors import DefinitionError


def _split(name: str, items: Iterable[Any], resources: Mapping[str, Any]) -> Definitions:
    assets: list[Any] = []
    jobs: list[Any] = []
    schedules: list[Any] = []
    sensors: list[Any] = []
    for item in items:
        if isinstance(item, AssetsDefinition | AssetSpec):
            assets.append(item)
        elif isinstance(item, ScheduleDefinition):
            schedules.append(item)
        elif isinstance(item, SensorDefinition):
            sensors.append(item)
        elif isinstance(item, JobDefinition | UnresolvedAssetJobDefinition) or hasattr(
            item, "execute_in_process"
        ):  # an op job too
            jobs.append(item)
        else:
            kind = type(item).__name__
            msg = (
                f"@repository {name!r} returned {kind}: expected assets, asset specs, jobs, "
                "schedules or sensors"
            )
            raise DefinitionError(msg, expected="a definition", got=kind)
    return Definitions(
        assets=assets, resources=resources, jobs=jobs, schedules=schedules, sensors=sensors
    )


@overload
def repository(fn: Callable[[], Any]) -> RepositoryDefinition: ...


@overload
def repository(
    fn: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    default_executor_def: Any = None,
    default_logger_defs: Any = None,
    top_level_resources: Mapping[str, Any] | None = None,
    resource_key_mapping: Any = None,
) -> Callable[[Callable[[], Any]], RepositoryDefinition]: ...


def repository(
    fn: Callable[[], Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    default_executor_def: Any = None,
    default_logger_defs: Any = None,
    top_level_resources: Mapping[str, Any] | None = None,
    resource_key_mapping: Any = None,
) -> Any:
    """Group the definitions a function returns (a list, or a dict of lists by kind) under a
    name, as Dagster's ``@repository`` does. Assets are validated with
    ``top_level_resources`` like :class:`Definitions`.

    Examples:
        >>> import wharf as dg
        >>> @dg.asset
        ... def one() -> int:
        ...     return 1
        >>> @dg.repository
        ... def my_repo():
        ...     return [one]
        >>> my_repo.name, list(my_repo.assets_defs_by_key)
        ('my_repo', [AssetKey(['one'])])
    """
    del default_executor_def, default_logger_defs, resource_key_mapping

    def wrap(f: Callable[[], Any]) -> RepositoryDefinition:
        returned = f()
        if isinstance(returned, Mapping):
            items = [item for group in returned.values() for item in _values(group)]
        else:
            items = list(returned)
        repo_name = name or f.__name__
        defs = _split(repo_name, items, dict(top_level_resources or {}))
        return RepositoryDefinition(
            defs, repo_name, description=description or f.__doc__, metadata=metadata
        )

    return wrap(fn) if fn is not None else wrap


def _values(group: Any) -> list[Any]:
    return list(group.values()) if isinstance(group, Mapping) else list(group)
