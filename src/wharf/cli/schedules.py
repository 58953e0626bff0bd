"""``wharf schedules list|start|stop``: the daemon's schedules and sensors from the CLI."""

from __future__ import annotations

import argparse

from wharf.cli.common import CliError, fmt_time, line, print_table
from wharf.cli.load import load_definitions


def run(args: argparse.Namespace) -> int:
    """List, or start/stop one schedule or sensor; the state lives in the run history."""
    from wharf._core.history import wharf_home
    from wharf._core.ticks import TickStore
    from wharf.ui import daemon

    defs, where = load_definitions(args.module, args.file, args.attribute)
    with TickStore(wharf_home() / "history.sqlite") as store:
        if args.action == "list":
            rows = []
            for item in daemon.describe(defs, store):
                last = item["ticks"][0] if item["ticks"] else None
                when = (
                    f"{item['cron_schedule']} ({item['timezone']})"
                    if item["kind"] == "schedule"
                    else f"every {item['minimum_interval_seconds']}s"
                )
                rows.append(
                    [
                        item["name"], item["kind"], item["status"], when,
                        item.get("next_tick", "") or "",
                        f"{fmt_time(last['tick_at'])} {last['status']}" if last else "never",
                    ]
                )  # fmt: skip
            if not rows:
                line(f"{where!r} has no schedules or sensors")
                return 0
            headers = ["name", "kind", "status", "when", "next tick", "last tick"]
            print_table(f"schedules and sensors of {where}", headers, rows)
            return 0
        if not args.name:
            msg = f"wharf schedules {args.action} needs a NAME: expected a schedule or sensor"
            raise CliError(msg)
        daemon.set_status(defs, store, args.name, args.action == "start")
    state = "started" if args.action == "start" else "stopped"
    line(f"{args.name}: {state} (the daemon of `wharf dev` runs started schedules and sensors)")
    return 0
