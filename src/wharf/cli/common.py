"""What every command shares: the CLI's error, text formatting and TTY-aware output."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


class CliError(Exception):
    """A problem the CLI reports as one message, without a traceback.

    Args:
        message: the sentence shown after ``wharf: error:``.
        exit_code: the process exit code (2: usage or definition problem).
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def is_tty() -> bool:
    """Whether stdout is an interactive terminal (then output is live and coloured)."""
    return sys.stdout.isatty()


def console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr); rich is imported only here."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def line(text: str = "", style: str | None = None) -> None:
    """Print one line: styled on a terminal, plain text otherwise."""
    if style and is_tty():
        from rich.text import Text

        console().print(Text(text, style=style), soft_wrap=True)
    else:
        print(text, flush=True)


def error(message: str) -> None:
    """Print ``wharf: error: message`` to stderr."""
    print(f"wharf: error: {message}", file=sys.stderr, flush=True)


def fmt_time(ts: float) -> str:
    """Seconds since the epoch as local ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(seconds: float) -> str:
    """A short duration: ``12ms``, ``3.40s`` or ``2m05s``.

    Examples:
        >>> fmt_duration(0.0123), fmt_duration(3.4), fmt_duration(125)
        ('12ms', '3.40s', '2m05s')
    """
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f}m{rest:02.0f}s"


def first_line(text: str) -> str:
    """The first non-empty line of ``text``."""
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def describe_error(exc: BaseException) -> str:
    """``Type: first line of the message``."""
    message = first_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def error_summary(text: str) -> str:
    """The exception line of a stored traceback (or the first line of a plain reason).

    Examples:
        >>> error_summary('Traceback (most recent call last):\\n  File "x"\\nValueError: boom\\nn')
        'ValueError: boom'
        >>> error_summary("upstream 'a' failed")
        "upstream 'a' failed"
    """
    found, in_traceback = "", False
    for ln in text.splitlines():
        if ln.startswith("Traceback ("):
            in_traceback = True
        elif in_traceback and ln and not ln.startswith(" "):
            found, in_traceback = ln.strip(), False
    return found or first_line(text)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on a terminal; aligned plain columns (never wrapped) otherwise.

    Nothing is cut: on a narrow terminal cells wrap, except in the first column (a key or
    run id).
    """
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    if is_tty():
        from rich import box
        from rich.table import Table
        from rich.text import Text

        out = console()
        fits = sum(widths) + 3 * len(widths) <= out.width
        table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
        for i, header in enumerate(headers):
            first = i == 0
            table.add_column(
                header,
                no_wrap=fits or first,
                overflow="fold",
                min_width=widths[0] if first else None,
            )
        for row in rows:
            table.add_row(*(Text(c) for c in row), style=_row_style(row))
        out.print(table)
        return
    print(title)
    for row in [list(headers), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    sys.stdout.flush()


def _row_style(row: Sequence[str]) -> str | None:
    return "red" if "failed" in row else "yellow" if "skipped" in row else None
