"""``wharf logs RUN_ID``: the log lines a run's assets wrote, from the run history."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime

from wharf.cli.common import CliError, line

_STYLE = {"DEBUG": "dim", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "bold red"}


def print_log_lines(rows: Sequence[tuple[str, float, str, str, str]], *, with_key: bool) -> None:
    """One line per record: time, level, (asset,) message; continuation lines indented."""
    if not rows:
        line("  (no log lines)")
        return
    for key, ts, level, _logger, message in rows:
        stamp = datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3]
        head = f"{stamp} {level:<8} " + (f"{key}: " if with_key else "")
        text = message.replace("\n", "\n" + " " * len(head))
        line(f"{head}{text}", _STYLE.get(level))


def run(args: argparse.Namespace) -> int:
    """Print a run's log lines; exit 2 when no run (or several) has that id."""
    from wharf._core.history import RunHistory
    from wharf._core.keys import AssetKey

    with RunHistory() as history:
        found = history.run_ids_starting(args.run_id)
        if not found:
            msg = f"no run {args.run_id!r} in the run history ({history.path})"
            raise CliError(msg)
        if len(found) > 1 and args.run_id not in found:
            shown = ", ".join(found[:5])
            msg = f"run id {args.run_id!r} is ambiguous: expected one of {shown}"
            raise CliError(msg)
        run_id = args.run_id if args.run_id in found else found[0]
        key = AssetKey.from_user_string(args.asset).to_user_string() if args.asset else None
        rows = history.logs(run_id, key)
    line(f"logs of run {run_id}" + (f" ({key})" if key else ""), "bold")
    print_log_lines(rows, with_key=key is None)
    return 0
