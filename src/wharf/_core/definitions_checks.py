"""What ``Definitions`` checks in its arguments (each entry's type, unique names, jobs that
schedules name) and the repository view Dagster's ``get_repository_def`` returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wharf._core.jobs import (
    IMPLICIT_ASSET_JOB_NAME,
    JobDefinition,
    UnresolvedAssetJobDefinition,
    define_asset_job,
)
from wharf._core.loggers import LoggerDefinition
from wharf._core.schedules import ScheduleDefinition, SensorDefinition
from wharf.errors import DefinitionError, UnknownAssetError

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions
    from wharf._core.graph import AssetGraph

__all__ = [
    "IMPLICIT_ASSET_JOB_NAME",
    "RepositoryDefinition",
    "check_entries",
    "check_loggers",
    "resolve_jobs",
]


def _allowed(what: str) -> tuple[tuple[type, ...], str]:
    """The types an entry of ``Definitions(what=[...])`` may have, and how to say so."""
    if what == "jobs":
        return (UnresolvedAssetJobDefinition, JobDefinition), "a job (define_asset_job)"
    if what == "schedules":
        return (ScheduleDefinition,), "a ScheduleDefinition (or @schedule)"
    if what == "sensors":
        return (SensorDefinition,), "a SensorDefinition (or @sensor)"
    from wharf._core.checks import AssetChecksDefinition

    return (AssetChecksDefinition,), "an asset check (@asset_check)"


def check_entries(items: list[Any], what: str) -> list[Any]:
    """``items`` if each has the type ``Definitions(what=)`` takes and the names are unique."""
    types, expected = _allowed(what)
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, types):
            shown = repr(item)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            msg = (
                f"Definitions({what}=[...]) entry {i} is {shown} ({type(item).__name__}): "
                f"expected {expected}"
            )
            raise DefinitionError(msg, expected=expected, got=type(item).__name__)
        name = getattr(item, "name", None)
        if what != "asset_checks" and name is not None:
            if name in seen:
                msg = (
                    f"Definitions({what}=[...]) has two entries named {name!r} "
                    f"(entries {seen[name]} and {i}): expected each name once"
                )
                raise DefinitionError(msg, expected="unique names", got=name)
            seen[name] = i
    return items


def check_loggers(loggers: Mapping[str, Any]) -> dict[str, LoggerDefinition]:
    """``loggers`` if every value is a :class:`LoggerDefinition` (from ``@logger``)."""
    for key, value in loggers.items():
        if not isinstance(value, LoggerDefinition):
            msg = (
                f"Definitions(loggers=...) entry {key!r} is {value!r} ({type(value).__name__}): "
                "expected a LoggerDefinition (from @logger)"
            )
            raise DefinitionError(msg, expected="a LoggerDefinition", got=type(value).__name__)
    return dict(loggers)


def resolve_jobs(defs: Definitions, jobs: list[Any]) -> dict[str, JobDefinition]:
    """Name -> job, each resolved against ``defs``' assets; the jobs of schedules and sensors
    are added; every ``job_name`` they give must be a job; ``__ASSET_JOB`` covers every asset."""
    specs: dict[str, Any] = {}

    def add(job: Any, where: str) -> None:
        spec = job._spec if isinstance(job, JobDefinition) else job
        if job.name in specs and specs[job.name] is not spec:
            msg = f"two different jobs are named {job.name!r} ({where}): expected each name once"
            raise DefinitionError(msg, expected="unique job names", got=job.name)
        specs[job.name] = spec

    for job in jobs:
        add(job, "in jobs=")
    for item in [*defs.schedules, *defs.sensors]:
        if item.job is not None:
            add(item.job, f"in {type(item).__name__} {item.name!r}")
    resolved: dict[str, JobDefinition] = {}
    for name, spec in specs.items():
        try:
            resolved[name] = spec.resolve(defs)
        except (UnknownAssetError, DefinitionError) as exc:
            exc.add_note(f"in the selection of job {name!r}")
            raise
    for item in [*defs.schedules, *defs.sensors]:
        if item.job_name is not None and item.job_name not in resolved:
            known = ", ".join(sorted(resolved)) or "none"
            kind = "schedule" if isinstance(item, ScheduleDefinition) else "sensor"
            msg = (
                f"{kind} {item.name!r} targets job {item.job_name!r}, which is not in these "
                f"definitions: expected one of [{known}]"
            )
            raise DefinitionError(msg, expected=known, got=item.job_name)
    resolved[IMPLICIT_ASSET_JOB_NAME] = define_asset_job(IMPLICIT_ASSET_JOB_NAME).resolve(defs)
    return resolved


class RepositoryDefinition:
    """Dagster's repository view of a :class:`~wharf.Definitions` (what
    ``Definitions.get_repository_def()`` and ``@repository`` return).

    Args:
        defs: the definitions, validated together.
        name: the repository's name.
        description: a description.
        metadata: metadata of the repository.
    """

    def __init__(
        self,
        defs: Definitions,
        name: str = "__repository__",
        *,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self._defs = defs
        self.name = name
        self.description = description
        self.metadata = dict(metadata or {})

    @property
    def definitions(self) -> Definitions:
        return self._defs

    def get_assets_def(self, key: Any) -> Any:
        return self._defs.get_assets_def(key)

    def load_asset_value(self, asset_key: Any, **kwargs: Any) -> Any:
        """The stored value of an asset, loaded through its I/O manager (see
        :meth:`Definitions.load_asset_value`)."""
        return self._defs.load_asset_value(asset_key, **kwargs)

    @property
    def asset_graph(self) -> AssetGraph:
        return self._defs.asset_graph

    @property
    def job_names(self) -> list[str]:
        return sorted(j.name for j in self._defs.jobs)

    def has_job(self, name: str) -> bool:
        return name in self.job_names or name == IMPLICIT_ASSET_JOB_NAME

    def get_job(self, name: str) -> JobDefinition:
        return self._defs.get_job_def(name)

    def get_all_jobs(self) -> list[JobDefinition]:
        return list(self._defs.jobs)

    @property
    def schedule_defs(self) -> list[ScheduleDefinition]:
        return list(self._defs.schedules)

    @property
    def sensor_defs(self) -> list[SensorDefinition]:
        return list(self._defs.sensors)

    @property
    def assets_defs_by_key(self) -> dict[Any, Any]:
        return dict(self._defs.asset_graph.by_key)

    def __repr__(self) -> str:
        return f"RepositoryDefinition(name={self.name!r}, jobs={self.job_names})"
