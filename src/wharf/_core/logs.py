"""Logs of a step: ``context.log``, ``get_dagster_logger()`` and Python ``logging`` in an asset's
body, captured per step in whatever process or thread runs it, with secrets masked.

:func:`capture_step_logs` puts a handler on the root logger for the duration of one step; it
keeps the records emitted by the step's own thread (so concurrent steps in one process never mix
their lines) as :class:`LogLine` tuples, which pickle across processes. The loggers wharf hands
out (``context.log``, ``get_dagster_logger()``) pass every level; any other logger follows the
process's logging configuration (``wharf materialize --log-level`` sets the root level).
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

MASK = "**********"

#: the logger behind ``context.log`` in a run (every level passes)
STEP_LOGGER = logging.getLogger("wharf.asset")
STEP_LOGGER.setLevel(logging.DEBUG)

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class LogLine(NamedTuple):
    """One captured log record."""

    timestamp: float
    level: str
    logger: str
    message: str

    @property
    def levelno(self) -> int:
        return LEVELS.get(self.level.lower(), 0)


#: where lines go as they are captured (the CLI's live display), set by the in-process executor
LIVE_SINK: contextvars.ContextVar[Callable[[Any, LogLine], None] | None] = contextvars.ContextVar(
    "wharf_live_logs", default=None
)


def get_dagster_logger(name: str | None = None) -> logging.Logger:
    """A logger whose records are captured into the running step's logs (every level passes).

    Examples:
        >>> get_dagster_logger().name, get_dagster_logger("etl").name
        ('dagster', 'dagster.etl')
    """
    logger = logging.getLogger("dagster" if not name else f"dagster.{name}")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.DEBUG)
    return logger


#: the access key id in an AWS signature (botocore logs request headers at DEBUG), however
#: the key was found (a field, an EnvVar, or boto's own credential chain)
_AWS_CREDENTIAL = re.compile(r"(Credential=)[A-Za-z0-9]+")


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every (non-empty) secret value, and the access key id of an AWS
    signature, replaced by ``**********``.

    Examples:
        >>> mask("token=abc123 ok", ["abc123", ""])
        'token=********** ok'
        >>> mask("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261203/us-east-1/s3", [])
        'AWS4-HMAC-SHA256 Credential=**********/20261203/us-east-1/s3'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _AWS_CREDENTIAL.sub(rf"\g<1>{MASK}", text) if "Credential=" in text else text


class _Capture:
    """One step's capture: its lines, the secrets to mask, the live sink."""

    __slots__ = ("key", "lines", "secrets", "sink")

    def __init__(self, key: Any, secrets: tuple[str, ...]) -> None:
        self.key, self.secrets = key, secrets
        self.lines: list[LogLine] = []
        self.sink = LIVE_SINK.get()


class _StepHandler(logging.Handler):
    """The one handler behind every capture: a record goes to the captures open on the thread
    that emitted it. It sits on the root logger only while a capture is open."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.captures: dict[int | None, list[_Capture]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        captures = self.captures.get(record.thread)
        if not captures:
            return
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format in the user's call: keep the raw text
            message = f"{record.msg} {record.args}"
        if record.exc_info and record.exc_info[1] is not None:
            message += "\n" + "".join(traceback.format_exception(record.exc_info[1])).rstrip()
        for cap in list(captures):
            line = LogLine(
                record.created, record.levelname, record.name, mask(message, cap.secrets)
            )
            cap.lines.append(line)
            if cap.sink is not None:
                try:
                    cap.sink(cap.key, line)
                except Exception:  # the display must never fail the step
                    cap.sink = None


_HANDLER = _StepHandler()
_CAPTURES_LOCK = threading.Lock()


class capture_step_logs:  # noqa: N801 - used as a function: ``with capture_step_logs(...)``
    """Capture the records this thread emits while the block runs; ``as`` gives the list of
    lines (a class, not a generator: it is entered once per step)."""

    __slots__ = ("cap", "thread")

    def __init__(self, key: Any, secrets: Iterable[str] = ()) -> None:
        self.cap = _Capture(key, tuple(s for s in secrets if s))
        self.thread = threading.get_ident()

    def __enter__(self) -> list[LogLine]:
        root = logging.getLogger()
        with _CAPTURES_LOCK:
            _HANDLER.captures.setdefault(self.thread, []).append(self.cap)
            if _HANDLER not in root.handlers:  # (a logging.basicConfig(force=True) removes it)
                root.addHandler(_HANDLER)
        return self.cap.lines

    def __exit__(self, *exc_info: object) -> None:
        with _CAPTURES_LOCK:
            mine = _HANDLER.captures.get(self.thread, [])
            mine[:] = [c for c in mine if c is not self.cap]
            if not mine:
                _HANDLER.captures.pop(self.thread, None)
            if not _HANDLER.captures:  # no step is running: leave the root logger as it was
                logging.getLogger().removeHandler(_HANDLER)


def secret_values(resources: Iterable[Any]) -> tuple[str, ...]:
    """The values of the fields read from ``EnvVar``s in these resources (nested ones too),
    and of the fields a resource declares secret (``secret_fields``)."""
    found: list[str] = []

    def visit(res: Any, depth: int) -> None:
        names = getattr(res, "_wharf_secrets", None)
        if names is None or depth > 5:
            return
        found.extend(str(res.__dict__.get(n, "")) for n in names)
        # fields a resource declares secret (S3Resource.aws_access_key_id), given in plain
        found.extend(str(res.__dict__.get(n) or "") for n in getattr(res, "secret_fields", ()))
        for value in getattr(res, "__dict__", {}).values():
            visit(value, depth + 1)

    for res in resources:
        visit(res, 0)
    return tuple(sorted({s for s in found if s}, key=len, reverse=True))
