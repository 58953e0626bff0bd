"""Progress of a run: a live rich table on a terminal, one plain line per asset otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from wharf._core.execution import RunListener, StepOutcome
from wharf._core.keys import AssetKey
from wharf._core.logs import LogLine
from wharf.cli.common import fmt_duration, is_tty

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

_WORD = {"success": "done", "failed": "failed", "skipped": "skipped", "unchanged": "unchanged"}
_STYLE = {
    "done": "green",
    "failed": "red",
    "skipped": "yellow",
    "unchanged": "dim green",
    "running": "cyan",
    "pending": "dim",
}
_LEVEL_STYLE = {"DEBUG": "dim", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "bold red"}
_ICON = {"done": "✓", "failed": "✗", "skipped": "-", "unchanged": "=", "pending": "·"}


def outcome_detail(outcome: StepOutcome) -> str:
    """Why an asset was skipped, or why it failed when there is no error to show; empty
    otherwise: a failure's error is printed once, after the run (``materialize.report``)."""
    if outcome.status == "success" or outcome.error is not None:
        return ""
    return outcome.reason or ""


def log_text(key: AssetKey, line: LogLine) -> str:
    """``  INFO     raw: message`` (continuation lines indented)."""
    message = line.message.replace("\n", "\n" + " " * 11)
    return f"  {line.level:<8} {key.to_user_string()}: {message}"


class Progress(RunListener):
    """A run listener that is also a context manager around the run; shows log lines at or
    above ``log_level`` (live for assets in this process, at their end for workers')."""

    log_level: int = logging.INFO
    _live_keys: set[AssetKey]

    def on_log(self, key: AssetKey, line: LogLine) -> None:
        self._live_keys = getattr(self, "_live_keys", set())
        self._live_keys.add(key)
        if line.levelno >= self.log_level:
            self.show(log_text(key, line), _LEVEL_STYLE.get(line.level, ""))

    def worker_logs(self, outcome: StepOutcome) -> None:
        """Show the lines of an asset that ran elsewhere (they come with its outcome)."""
        if outcome.key in getattr(self, "_live_keys", set()):
            return
        for line in outcome.logs:
            if line.levelno >= self.log_level:
                self.show(log_text(outcome.key, line), _LEVEL_STYLE.get(line.level, ""))

    def show(self, text: str, style: str) -> None:
        """Print a log line (to stderr, as Dagster does: stdout keeps the run's summary)."""
        print(text, file=sys.stderr, flush=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop displaying."""


class PlainProgress(Progress):
    """One line per finished asset: ``done  sales  12ms``; for pipes, CI logs and files."""

    def __init__(self, keys: Sequence[AssetKey]) -> None:
        self._width = max((len(k.to_user_string()) for k in keys), default=0)

    def on_finish(self, outcome: StepOutcome) -> None:
        self.worker_logs(outcome)
        word = _WORD.get(outcome.status, outcome.status)
        name = outcome.key.to_user_string().ljust(self._width)
        took = "" if outcome.status == "skipped" else fmt_duration(outcome.duration_s)
        text = f"{word:<8} {name}  {took:>7}"
        detail = outcome_detail(outcome)
        print(f"{text}  {detail}" if detail else text, flush=True)


class LiveProgress(Progress):
    """A table of the selected assets that updates as each one runs, succeeds, fails or skips.

    Args:
        keys: the assets of the run, in run order.
        console: where to draw (a terminal console by default).
    """

    def __init__(self, keys: Sequence[AssetKey], console: Console | None = None) -> None:
        self._rows: dict[AssetKey, tuple[str, str, str]] = dict.fromkeys(keys, ("pending", "", ""))
        self._started: dict[AssetKey, float] = {}
        self._console = console
        self._live: Live | None = None

    def __enter__(self) -> LiveProgress:
        from rich.live import Live

        self._live = Live(self, console=self._console, refresh_per_second=10, transient=False)
        self._live.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def on_start(self, key: AssetKey) -> None:
        self._started[key] = time.perf_counter()
        self._rows[key] = ("running", "", "")
        self._refresh()

    def show(self, text: str, style: str) -> None:
        if self._live is None:
            print(text, flush=True)
            return
        from rich.text import Text

        self._live.console.print(Text(text, style=style), soft_wrap=True)

    def on_finish(self, outcome: StepOutcome) -> None:
        self.worker_logs(outcome)
        word = _WORD.get(outcome.status, outcome.status)
        duration = "" if outcome.status == "skipped" else fmt_duration(outcome.duration_s)
        self._rows[outcome.key] = (word, duration, outcome_detail(outcome))
        self._refresh()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def __rich__(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, show_header=False, padding=(0, 1))
        for _ in range(4):
            table.add_column()
        for key, (word, duration, detail) in self._rows.items():
            style = _STYLE.get(word, "")
            if word == "running":
                icon: Any = Spinner("dots", style=style)
                took = fmt_duration(time.perf_counter() - self._started.get(key, 0.0))
            else:
                icon, took = Text(_ICON.get(word, "?"), style=style), duration
            name = Text(key.to_user_string(), style="bold" if word == "running" else "")
            table.add_row(icon, name, Text(f"{word} {took}".strip(), style=style), Text(detail))
        return table


def make_progress(keys: Sequence[AssetKey], log_level: int = logging.INFO) -> Progress:
    """Live on a terminal, plain lines otherwise; log lines from ``log_level`` up."""
    progress = LiveProgress(keys) if is_tty() else PlainProgress(keys)
    progress.log_level = log_level
    return progress
