"""Schedules and sensors, as Dagster defines them: what to run and when; ``wharf dev`` runs them.

A schedule is a cron string (five fields; a sixth field, seconds, is a wharf extension) in a
time zone, and what to run: a job, a ``target`` selection, or its function's ``RunRequest``.
A sensor is a function evaluated every ``minimum_interval_seconds`` that returns (or yields)
``RunRequest`` or ``SkipReason`` and may keep a cursor. Neither runs anything by itself: the
daemon of ``wharf dev`` evaluates them (see :mod:`wharf.ui.daemon`). croniter is imported only
to check and iterate cron strings.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from wharf.errors import DefinitionError


class DefaultScheduleStatus(Enum):
    """Whether a schedule runs as soon as the daemon sees it (``RUNNING``) or waits to be
    started (``STOPPED``, the default)."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class DefaultSensorStatus(Enum):
    """Whether a sensor runs as soon as the daemon sees it (``RUNNING``) or waits to be
    started (``STOPPED``, the default)."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


@dataclass(frozen=True)
class RunRequest:
    """A run a schedule or sensor asks for.

    A sensor's request with a ``run_key`` already launched by that sensor is not launched again.

    Examples:
        >>> RunRequest(run_key="file-1.csv", tags={"source": "s3"}).run_key
        'file-1.csv'
    """

    run_key: str | None = None
    run_config: Mapping[str, Any] | None = None
    tags: Mapping[str, str] | None = None
    job_name: str | None = None
    asset_selection: Sequence[Any] | None = None
    partition_key: str | None = None


@dataclass(frozen=True)
class SkipReason:
    """Why a tick launched nothing.

    Examples:
        >>> SkipReason("no new files").skip_message
        'no new files'
    """

    skip_message: str | None = None


@dataclass
class ScheduleEvaluationContext:
    """What a schedule function gets: the tick's time (in the schedule's time zone)."""

    scheduled_execution_time: dt.datetime | None = None
    instance: Any = None
    resources: Any = None

    def __enter__(self) -> ScheduleEvaluationContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


@dataclass
class SensorEvaluationContext:
    """What a sensor function gets: the cursor it kept, and a way to keep a new one."""

    cursor: str | None = None
    last_tick_completion_time: float | None = None
    last_run_key: str | None = None
    instance: Any = None
    resources: Any = None
    _new_cursor: list[str | None] = field(default_factory=list, repr=False)

    def update_cursor(self, cursor: str | None) -> None:
        """Keep ``cursor`` for the next tick (when this tick ends)."""
        self._new_cursor.append(cursor)
        self.cursor = cursor

    def __enter__(self) -> SensorEvaluationContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


def build_schedule_context(
    instance: Any = None, scheduled_execution_time: dt.datetime | None = None, resources: Any = None
) -> ScheduleEvaluationContext:
    """A context to call a schedule function in a test."""
    return ScheduleEvaluationContext(scheduled_execution_time, instance, resources)


def build_sensor_context(
    instance: Any = None, cursor: str | None = None, resources: Any = None, **_: Any
) -> SensorEvaluationContext:
    """A context to call a sensor function in a test."""
    return SensorEvaluationContext(cursor=cursor, instance=instance, resources=resources)


def _job_name_of(job: Any, job_name: str | None, what: str) -> str | None:
    """The name of ``job`` (a job from ``define_asset_job``), else ``job_name``."""
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


def check_cron(cron_schedule: Any, what: str) -> str:
    """``cron_schedule`` if croniter accepts it (five fields, an ``@daily``-style alias, or a
    sixth field of seconds, a wharf extension), else a :class:`DefinitionError` naming ``what``."""
    from wharf._deps import require

    croniter = require("croniter", purpose="schedules").croniter
    if not isinstance(cron_schedule, str) or not croniter.is_valid(cron_schedule):
        msg = (
            f"{what}: cron_schedule={cron_schedule!r} is not a cron string: expected 5 fields "
            "like '0 6 * * *' (minute hour day-of-month month day-of-week)"
        )
        raise DefinitionError(msg, expected="a 5-field cron string", got=repr(cron_schedule))
    return cron_schedule


def check_timezone(zone: str | None, name: str) -> dt.tzinfo:
    """The time zone ``zone`` names (UTC when None)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if zone is None:
        return dt.UTC
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        msg = (
            f"schedule {name!r} has execution_timezone {zone!r}: expected an IANA time zone "
            "such as 'Europe/Berlin' or 'UTC'"
        )
        raise DefinitionError(msg, expected="an IANA time zone", got=repr(zone)) from None


class ScheduleDefinition:
    """Run a job (or a ``target`` selection) on a cron schedule in a time zone.

    Examples:
        >>> s = ScheduleDefinition(job_name="nightly", cron_schedule="0 2 * * *",
        ...                        execution_timezone="Europe/Berlin")
        >>> s.name
        'nightly_schedule'
        >>> after = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
        >>> next(s.ticks_after(after)).isoformat()
        '2024-03-02T02:00:00+01:00'
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        cron_schedule: str,
        job_name: str | None = None,
        job: Any = None,
        target: Any = None,
        run_config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        execution_timezone: str | None = None,
        execution_fn: Callable[..., Any] | None = None,
        description: str | None = None,
        default_status: DefaultScheduleStatus | None = None,
        should_execute: Callable[..., bool] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        from wharf._core.jobs import check_job_name

        what = f"schedule {name!r}" if name else "ScheduleDefinition"
        self.job = job
        self.job_name = _job_name_of(job, job_name, what)
        self.target = target
        if self.job_name is None and target is None:
            msg = f"{what}: expected job= or job_name= (or target=), got neither"
            raise DefinitionError(msg, expected="job, job_name or target", got="neither")
        base = self.job_name or getattr(execution_fn, "__name__", None) or "target"
        self.name: str = check_job_name(name or f"{base}_schedule", "schedule")
        self.cron_schedule = check_cron(cron_schedule, f"schedule {self.name!r}")
        self.execution_timezone = execution_timezone
        self.tz = check_timezone(execution_timezone, self.name)
        self.run_config = dict(run_config or {})
        self.tags = dict(tags or {})
        self.execution_fn = execution_fn
        self.description = description
        self.should_execute = should_execute
        self.metadata = dict(metadata or {})
        default_status = default_status or DefaultScheduleStatus.STOPPED
        if not isinstance(default_status, DefaultScheduleStatus):
            msg = f"schedule {self.name!r}: default_status must be a DefaultScheduleStatus"
            raise DefinitionError(msg, expected="DefaultScheduleStatus", got=repr(default_status))
        self.default_status = default_status

    def ticks_after(self, after: dt.datetime) -> Iterator[dt.datetime]:
        """The tick times after ``after``, in the schedule's time zone."""
        from wharf._deps import require

        croniter = require("croniter", purpose="schedules").croniter
        it = croniter(self.cron_schedule, after.astimezone(self.tz))
        while True:
            yield it.get_next(dt.datetime)

    def evaluate_tick(self, context: ScheduleEvaluationContext) -> list[RunRequest] | SkipReason:
        """The runs this tick asks for, or why it asks for none."""
        if self.should_execute is not None and not self.should_execute(context):
            return SkipReason("should_execute returned False")
        if self.execution_fn is None:
            return [RunRequest(run_config=self.run_config or None, tags=self.tags or None)]
        out = _call(self.execution_fn, context)
        if isinstance(out, Mapping):  # a run config
            return [RunRequest(run_config=dict(out), tags=self.tags or None)]
        return _requests(out, f"schedule {self.name!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the schedule function directly (tests do)."""
        if self.execution_fn is None:
            msg = f"schedule {self.name!r} has no function to call"
            raise TypeError(msg)
        return self.execution_fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"ScheduleDefinition({self.name!r}, {self.cron_schedule!r})"


def schedule(
    cron_schedule: str,
    *,
    job_name: str | None = None,
    job: Any = None,
    target: Any = None,
    name: str | None = None,
    execution_timezone: str | None = None,
    description: str | None = None,
    default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    should_execute: Callable[..., bool] | None = None,
) -> Callable[[Callable[..., Any]], ScheduleDefinition]:
    """A schedule whose function returns the tick's ``RunRequest`` (s), ``SkipReason``, or run
    config; named after the function.

    Examples:
        >>> @schedule(cron_schedule="*/5 * * * *", job_name="refresh")
        ... def every_five(context):
        ...     return RunRequest(run_key=context.scheduled_execution_time.isoformat())
        >>> every_five.name
        'every_five'
    """

    def wrap(fn: Callable[..., Any]) -> ScheduleDefinition:
        return ScheduleDefinition(
            name or fn.__name__, cron_schedule=cron_schedule, job_name=job_name, job=job,
            target=target, execution_timezone=execution_timezone, execution_fn=fn,
            description=description or inspect.getdoc(fn), default_status=default_status,
            tags=tags, should_execute=should_execute,
        )  # fmt: skip

    return wrap


class SensorDefinition:
    """Evaluate a function every ``minimum_interval_seconds``; launch the runs it asks for.

    Examples:
        >>> def new_files(context):
        ...     seen = int(context.cursor or 0)
        ...     context.update_cursor(str(seen + 1))
        ...     return RunRequest(run_key=f"file-{seen + 1}")
        >>> s = SensorDefinition("files", evaluation_fn=new_files, job_name="load")
        >>> s.evaluate(build_sensor_context(cursor="4"))
        ([RunRequest(run_key='file-5', run_config=None, tags=None, job_name=None, \
asset_selection=None, partition_key=None)], None, '5')
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        evaluation_fn: Callable[..., Any] | None = None,
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        job_name: str | None = None,
        job: Any = None,
        jobs: Sequence[Any] | None = None,
        target: Any = None,
        asset_selection: Any = None,
        default_status: DefaultSensorStatus | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        from wharf._core.jobs import check_job_name

        fn_name = getattr(evaluation_fn, "__name__", None)
        what = f"sensor {name or fn_name!r}"
        if evaluation_fn is None or not callable(evaluation_fn):
            msg = f"{what}: evaluation_fn={evaluation_fn!r} is not callable: expected a function"
            raise DefinitionError(msg, expected="a function", got=repr(evaluation_fn))
        self.name: str = check_job_name(name or fn_name, "sensor")
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
        self.job = job or (jobs[0] if jobs else None)
        self.job_name = _job_name_of(self.job, job_name, what)
        self.target = target if target is not None else asset_selection
        self.asset_selection = self.target
        default_status = default_status or DefaultSensorStatus.STOPPED
        if not isinstance(default_status, DefaultSensorStatus):
            msg = f"sensor {self.name!r}: default_status must be a DefaultSensorStatus"
            raise DefinitionError(msg, expected="DefaultSensorStatus", got=repr(default_status))
        self.default_status = default_status
        self.metadata = dict(metadata or {})

    def evaluate(
        self, context: SensorEvaluationContext
    ) -> tuple[list[RunRequest], SkipReason | None, str | None]:
        """(run requests, skip reason, the cursor after the tick)."""
        out = _requests(_call(self.evaluation_fn, context), f"sensor {self.name!r}")
        if isinstance(out, SkipReason):
            return [], out, context.cursor
        return out, None, context.cursor

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the sensor function directly (tests do)."""
        return self.evaluation_fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"SensorDefinition({self.name!r})"


def sensor(
    job: Any = None,
    *,
    job_name: str | None = None,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    target: Any = None,
    asset_selection: Any = None,
    jobs: Sequence[Any] | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> Callable[[Callable[..., Any]], SensorDefinition]:
    """A sensor whose function returns or yields ``RunRequest`` / ``SkipReason``.

    Examples:
        >>> @sensor(job_name="load", minimum_interval_seconds=5)
        ... def watch(context):
        ...     yield SkipReason("nothing new")
        >>> watch.evaluate(build_sensor_context())[1]
        SkipReason(skip_message='nothing new')
    """

    def wrap(fn: Callable[..., Any]) -> SensorDefinition:
        return SensorDefinition(
            name or fn.__name__, evaluation_fn=fn,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description or inspect.getdoc(fn), job_name=job_name, job=job,
            jobs=jobs, target=target, asset_selection=asset_selection,
            default_status=default_status,
        )  # fmt: skip

    return wrap


def _call(fn: Callable[..., Any], context: Any) -> Any:
    params = inspect.signature(fn).parameters
    return fn(context) if params else fn()


def _requests(out: Any, who: str) -> list[RunRequest] | SkipReason:
    """What a function returned, as run requests or a skip reason."""
    if out is None:
        return SkipReason(None)
    if isinstance(out, RunRequest | SkipReason):
        return [out] if isinstance(out, RunRequest) else out
    if isinstance(out, Iterable) and not isinstance(out, str | bytes | Mapping):
        items = list(out)
        skips = [i for i in items if isinstance(i, SkipReason)]
        requests = [i for i in items if isinstance(i, RunRequest)]
        bad = [i for i in items if not isinstance(i, RunRequest | SkipReason)]
        if bad:
            msg = f"{who} produced {bad[0]!r}: expected RunRequest or SkipReason"
            raise DefinitionError(
                msg, expected="RunRequest or SkipReason", got=type(bad[0]).__name__
            )
        if not requests:
            return skips[0] if skips else SkipReason(None)
        return requests
    msg = f"{who} returned {out!r}: expected RunRequest, SkipReason, a list of them, or None"
    raise DefinitionError(msg, expected="RunRequest or SkipReason", got=type(out).__name__)
