"""Schedules and sensors as definitions: what to run and when. The daemon that runs them reads
these; here they are built and checked (a bad cron string or job is an error naming them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wharf.errors import DefinitionError

_CRON_FIELDS = 5


def _job_name_of(job: Any, job_name: str | None, what: str) -> str | None:
    from wharf._core.jobs import JobDefinition, UnresolvedAssetJobDefinition

    if job is None:
        return job_name
    if not isinstance(job, UnresolvedAssetJobDefinition | JobDefinition):
        msg = (
            f"{what}: job={job!r} is not a job: expected a job from define_asset_job, "
            f"got {type(job).__name__}"
        )
        raise DefinitionError(msg, expected="a job", got=type(job).__name__)
    return job.name


def check_cron(cron: Any, what: str) -> str:
    """``cron`` if it is a 5-field cron string (or an ``@daily``-style alias)."""
    aliases = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"}
    if isinstance(cron, str) and (cron in aliases or len(cron.split()) == _CRON_FIELDS):
        return cron
    msg = f"{what}: cron_schedule={cron!r} is not a cron string: expected 5 fields like '0 6 * * *'"
    raise DefinitionError(msg, expected="a 5-field cron string", got=repr(cron))


class ScheduleDefinition:
    """Run a job on a cron schedule.

    Examples:
        >>> import wharf as dg
        >>> job = dg.define_asset_job("nightly", selection="*")
        >>> dg.ScheduleDefinition(job=job, cron_schedule="0 2 * * *").name
        'nightly_schedule'
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        cron_schedule: str | None = None,
        job_name: str | None = None,
        job: Any = None,
        run_config: Any = None,
        tags: Mapping[str, str] | None = None,
        execution_timezone: str | None = None,
        description: str | None = None,
        default_status: Any = None,
        execution_fn: Callable[..., Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        from wharf._core.jobs import check_job_name

        what = f"schedule {name!r}" if name else "ScheduleDefinition"
        self.job_name = _job_name_of(job, job_name, what)
        if self.job_name is None:
            msg = f"{what}: expected job= or job_name=, got neither"
            raise DefinitionError(msg, expected="job or job_name", got="neither")
        self.name = check_job_name(name or f"{self.job_name}_schedule", "schedule")
        self.cron_schedule = check_cron(cron_schedule, f"schedule {self.name!r}")
        self.job = job
        self.run_config = run_config
        self.tags = dict(tags or {})
        self.execution_timezone = execution_timezone
        self.description = description
        self.default_status = default_status
        self.execution_fn = execution_fn
        self.metadata = dict(metadata or {})

    def __repr__(self) -> str:
        return f"ScheduleDefinition(name={self.name!r}, cron_schedule={self.cron_schedule!r})"


class SensorDefinition:
    """Run a job when ``evaluation_fn`` (called every ``minimum_interval_seconds``) asks to."""

    def __init__(
        self,
        name: str | None = None,
        *,
        evaluation_fn: Callable[..., Any] | None = None,
        job_name: str | None = None,
        job: Any = None,
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        default_status: Any = None,
        asset_selection: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        from wharf._core.jobs import check_job_name

        fn_name = getattr(evaluation_fn, "__name__", None)
        what = f"sensor {name or fn_name!r}"
        if evaluation_fn is None or not callable(evaluation_fn):
            msg = f"{what}: evaluation_fn={evaluation_fn!r} is not callable: expected a function"
            raise DefinitionError(msg, expected="a function", got=repr(evaluation_fn))
        self.name = check_job_name(name or fn_name, "sensor")
        self.job_name = _job_name_of(job, job_name, what)
        self.job = job
        self.evaluation_fn = evaluation_fn
        if minimum_interval_seconds is not None and (
            not isinstance(minimum_interval_seconds, int) or minimum_interval_seconds < 1
        ):
            msg = (
                f"{what}: minimum_interval_seconds={minimum_interval_seconds!r}: expected int >= 1"
            )
            raise DefinitionError(msg, expected="int >= 1", got=repr(minimum_interval_seconds))
        self.minimum_interval_seconds = minimum_interval_seconds or 30
        self.description = description
        self.default_status = default_status
        self.asset_selection = asset_selection
        self.metadata = dict(metadata or {})

    def __repr__(self) -> str:
        return f"SensorDefinition(name={self.name!r})"
