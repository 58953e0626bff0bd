"""The schedule and sensor daemon: evaluates due ticks and launches the runs they ask for.

Each tick is claimed in the tick store before it is evaluated, so no tick runs twice: not when
the daemon restarts, not when two daemons share a ``$WHARF_HOME``. Ticks missed while the daemon
was down are caught up (the newest :data:`MAX_CATCHUP`, as Dagster's default), each once.
Starting a stopped schedule does not run the ticks it missed while stopped.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import traceback
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from wharf._core.assets import AssetsDefinition
from wharf._core.keys import AssetKey
from wharf._core.schedules import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
)
from wharf._core.ticks import TickStore, tick_json
from wharf.errors import DefinitionError, UnknownAssetError

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions
    from wharf.ui.launcher import EventBus, Launcher
    from wharf.ui.workspace import Workspace

MAX_CATCHUP = 5
#: launch(selection keys or None for all, partition key, run config, tags, origin, job name)
#: -> the run ids
LaunchFn = Callable[
    [list[str] | None, str | None, Any, dict[str, str] | None, str, str | None], list[str]
]


def schedules_of(defs: Definitions) -> list[ScheduleDefinition]:
    """The schedules the definitions hold."""
    return [s for s in getattr(defs, "schedules", None) or [] if isinstance(s, ScheduleDefinition)]


def sensors_of(defs: Definitions) -> list[SensorDefinition]:
    """The sensors the definitions hold."""
    return [s for s in getattr(defs, "sensors", None) or [] if isinstance(s, SensorDefinition)]


def _instigators(defs: Definitions) -> list[ScheduleDefinition | SensorDefinition]:
    return [*schedules_of(defs), *sensors_of(defs)]


def _find(defs: Definitions, name: str) -> ScheduleDefinition | SensorDefinition:
    found: dict[str, ScheduleDefinition | SensorDefinition] = {
        s.name: s for s in _instigators(defs)
    }
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        msg = f"no schedule or sensor named {name!r}: expected one of [{known}]"
        raise UnknownAssetError(msg, expected=known, got=name)
    return found[name]


def _kind(item: ScheduleDefinition | SensorDefinition) -> str:
    return "schedule" if isinstance(item, ScheduleDefinition) else "sensor"


def _default_running(item: ScheduleDefinition | SensorDefinition) -> bool:
    return item.default_status in (DefaultScheduleStatus.RUNNING, DefaultSensorStatus.RUNNING)


def status_of(store: TickStore, item: ScheduleDefinition | SensorDefinition) -> str:
    """``running`` or ``stopped``: the stored status, else the definition's default."""
    state = store.state(item.name)
    if state is not None:
        return state.status
    return "running" if _default_running(item) else "stopped"


def set_status(defs: Definitions, store: TickStore, name: str, running: bool) -> None:
    """Start or stop ``name``. Starting begins from now: ticks missed while stopped don't run.

    Raises:
        UnknownAssetError: no schedule or sensor has that name.
    """
    item = _find(defs, name)
    state = store.state(name)
    now = time.time()
    if running and state is not None and state.status == "running":
        return
    store.set_state(
        name, _kind(item), status="running" if running else "stopped", now=now,
        cursor=state.cursor if state else None, last_tick=now if running else None,
    )  # fmt: skip


def describe(defs: Definitions, store: TickStore, now: float | None = None) -> list[Any]:
    """Every schedule and sensor with its status, next tick, last ticks, as JSON."""
    now = now if now is not None else time.time()
    out = []
    for item in _instigators(defs):
        ticks = store.ticks(item.name, limit=20)
        row: dict[str, Any] = {
            "name": item.name,
            "kind": _kind(item),
            "status": status_of(store, item),
            "description": item.description,
            "job": item.job_name,
            "ticks": [tick_json(t) for t in ticks],
        }
        if isinstance(item, ScheduleDefinition):
            after = dt.datetime.fromtimestamp(now, dt.UTC)
            row.update(
                cron_schedule=item.cron_schedule,
                timezone=item.execution_timezone or "UTC",
                next_tick=next(item.ticks_after(after)).isoformat(),
            )
        else:
            row["minimum_interval_seconds"] = item.minimum_interval_seconds
            state = store.state(item.name)
            row["cursor"] = state.cursor if state else None
        out.append(row)
    return out


def target_keys(
    defs: Definitions, item: ScheduleDefinition | SensorDefinition, request: RunRequest
) -> list[str] | None:
    """The asset keys a request runs (None: every asset).

    Raises:
        DefinitionError: the target names a job the definitions do not have.
    """
    if request.asset_selection is not None:
        return _keys(defs, request.asset_selection)
    if item.target is not None:
        return _keys(defs, item.target)
    name = request.job_name or item.job_name
    if name is not None:
        get_job = getattr(defs, "get_job_def", None)
        if not callable(get_job):
            msg = f"{_kind(item)} {item.name!r} targets job {name!r}, which wharf cannot resolve"
            raise DefinitionError(msg, expected="a job in Definitions(jobs=)", got=name)
        job = get_job(name)  # a KeyError naming the known jobs if there is none
        return [k.to_user_string() for k in job.asset_keys]
    return None


def _keys(defs: Definitions, selection: Any) -> list[str] | None:
    if selection == "*":
        return None
    resolve = getattr(selection, "resolve", None)
    if callable(resolve):  # an AssetSelection
        return sorted(_text(k) for k in resolve(defs.asset_graph))
    if isinstance(selection, str | AssetKey | AssetsDefinition):
        selection = [selection]
    return [_text(s) for s in selection]


def _text(item: Any) -> str:
    if isinstance(item, AssetsDefinition):
        return item.key.to_user_string()
    if isinstance(item, AssetKey):
        return item.to_user_string()
    return str(item)


class Daemon:
    """Evaluates schedules and sensors every ``interval`` seconds in a thread."""

    def __init__(
        self,
        workspace: Workspace,
        launcher: Launcher | None = None,
        bus: EventBus | None = None,
        *,
        launch: LaunchFn | None = None,
        interval: float = 0.5,
    ) -> None:
        self.workspace, self.bus, self.interval = workspace, bus, interval
        if launch is None:
            assert launcher is not None
            launch = _launcher_fn(launcher)
        self.launch = launch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="wharf-daemon")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick(time.time())
            except Exception:  # a broken definition file: the next reload may fix it
                traceback.print_exc()
            self._stop.wait(self.interval)

    def tick(self, now: float) -> None:
        """Evaluate whatever is due at ``now``."""
        defs = self.workspace.defs()
        with TickStore(self.workspace.home / "history.sqlite") as store:
            for s in schedules_of(defs):
                self._schedule(defs, store, s, now)
            for sensor in sensors_of(defs):
                self._sensor(defs, store, sensor, now)

    def _publish(self, store: TickStore, name: str) -> None:
        if self.bus is not None:
            ticks = store.ticks(name, limit=1)
            if ticks:
                self.bus.publish({"type": "tick", **tick_json(ticks[0])})

    def _schedule(
        self, defs: Definitions, store: TickStore, s: ScheduleDefinition, now: float
    ) -> None:
        state = store.state(s.name)
        if status_of(store, s) != "running":
            return
        if state is None or state.last_tick is None:  # first seen running: start from now
            store.set_state(s.name, "schedule", status="running", now=now, last_tick=now)
            return
        due: list[dt.datetime] = []
        for t in s.ticks_after(dt.datetime.fromtimestamp(state.last_tick, dt.UTC)):
            if t.timestamp() > now or len(due) >= 10_000:
                break
            due.append(t)
        if not due:
            return
        for t in due[-MAX_CATCHUP:]:
            at = t.timestamp()
            if not store.claim(s.name, "schedule", at, now):
                continue  # another daemon (or this one before a restart) ran it
            context = ScheduleEvaluationContext(scheduled_execution_time=t)
            self._run_tick(
                defs, store, s, at, evaluate=partial(s.evaluate_tick, context), context=None
            )
        store.set_state(
            s.name, "schedule", status="running", now=now, cursor=state.cursor,
            last_tick=due[-1].timestamp(),
        )  # fmt: skip

    def _sensor(self, defs: Definitions, store: TickStore, s: SensorDefinition, now: float) -> None:
        state = store.state(s.name)
        if status_of(store, s) != "running":
            return
        last = state.last_tick if state else None
        if last is not None and now - last < s.minimum_interval_seconds:
            return
        if not store.claim(s.name, "sensor", now, now):
            return
        context = SensorEvaluationContext(
            cursor=state.cursor if state else None, last_tick_completion_time=last
        )

        def evaluate() -> list[RunRequest] | SkipReason:
            requests, skip, _ = s.evaluate(context)
            return skip if skip is not None else requests

        cursor = self._run_tick(defs, store, s, now, evaluate=evaluate, context=context)
        store.set_state(s.name, "sensor", status="running", now=now, cursor=cursor, last_tick=now)

    def _run_tick(
        self,
        defs: Definitions,
        store: TickStore,
        item: ScheduleDefinition | SensorDefinition,
        at: float,
        *,
        evaluate: Callable[[], list[RunRequest] | SkipReason],
        context: SensorEvaluationContext | None,
    ) -> str | None:
        """Evaluate one claimed tick, launch its requests, record it; the cursor after it."""
        before = context.cursor if context is not None else None
        try:
            out = evaluate()
            if isinstance(out, SkipReason):
                store.finish(item.name, at, status="skipped", message=out.skip_message)
                self._publish(store, item.name)
                return context.cursor if context is not None else None
            run_ids: list[str] = []
            origin = f"{_kind(item)}:{item.name}"
            for request in out:
                selection = target_keys(defs, item, request)
                if request.run_key is not None and not store.claim_run_key(
                    item.name, request.run_key, f"pending:{at}"
                ):
                    continue  # this run key was launched before: Dagster's dedupe rule
                tags = {**getattr(item, "tags", {}), **dict(request.tags or {})}
                tags[f"dagster/{_kind(item)}"] = item.name
                job = request.job_name or item.job_name
                run_ids += self.launch(
                    selection, request.partition_key, request.run_config, tags, origin, job
                )
            status = "success" if run_ids else "skipped"
            message = None if run_ids else "every run request's run_key was launched before"
            cursor = context.cursor if context is not None else None
            store.finish(
                item.name, at, status=status, run_ids=run_ids, message=message, cursor=cursor
            )
        except Exception as exc:
            text = "".join(traceback.format_exception(exc)).strip()
            store.finish(item.name, at, status="failed", message=self.workspace.redact(text))
            self._publish(store, item.name)
            return before
        self._publish(store, item.name)
        return cursor


def _launcher_fn(launcher: Launcher) -> LaunchFn:
    def launch(  # noqa: PLR0917 - the LaunchFn signature
        selection: list[str] | None, partition: str | None, run_config: Any,
        tags: dict[str, str] | None, origin: str, job: str | None,
    ) -> list[str]:  # fmt: skip
        runs = launcher.plan(selection, partition, None, job)
        started = launcher.launch(runs, run_config=run_config, tags=tags, origin=origin)
        return [r["run_id"] for r in started.runs]

    return launch
