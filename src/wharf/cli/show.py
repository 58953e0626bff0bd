"""``wharf show KEY``: the last materialization of an asset (or its recent runs) from history."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from wharf.cli.common import CliError, error_summary, fmt_duration, fmt_time, line, print_table
from wharf.cli.load import load_definitions

if TYPE_CHECKING:
    from wharf._core.history import HistoryRecord, RunHistory

STORAGE_KEYS = ("path", "uri", "table")


def storage_location(metadata: dict[str, Any]) -> str | None:
    """Where the value is stored: the ``path``, ``uri`` or ``table`` metadata entry.

    Examples:
        >>> storage_location({"rows": 3, "table": "main.sales"})
        'main.sales'
    """
    for key in STORAGE_KEYS:
        if metadata.get(key) is not None:
            return str(metadata[key])
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _known_keys(history: RunHistory, args: argparse.Namespace) -> tuple[set[str], str]:
    known = set(history.asset_keys())
    where = f"the run history ({history.path})"
    if args.module or args.file:
        defs, location = load_definitions(args.module, args.file, args.attribute)
        known |= {k.to_user_string() for k in defs.asset_graph.by_key}
        where = f"{location} or {where}"
    return known, where


def run(args: argparse.Namespace) -> int:
    """Show the asset's last materialization; exit 2 for an unknown key, 1 if never run."""
    from wharf._core.history import RunHistory
    from wharf._core.keys import AssetKey

    key = AssetKey.from_user_string(args.key).to_user_string()
    with RunHistory() as history:
        known, where = _known_keys(history, args)
        if key not in known:
            listed = ", ".join(sorted(known))
            hint = f"expected one of [{listed}]" if known else "nothing has been materialized yet"
            msg = f"no asset {key!r} in {where}: {hint}"
            raise CliError(msg)
        if args.history:
            records = history.for_asset(key, limit=args.limit)
            last = latest = None
        else:
            records = []
            last, latest = history.last(key), history.last(key, status=None)
    if args.history:
        return _print_history(key, records)
    if latest is None:
        line(f"asset {key!r} has not been materialized yet")
        return 1
    if latest.status != "success":  # a newer attempt failed or was skipped
        _print_record("latest attempt", latest)
        if last is not None:
            line()
    if last is not None:
        _print_record("last materialization", last)
    return 0


def _print_record(title: str, rec: HistoryRecord) -> None:
    style = {"success": "green", "failed": "red", "skipped": "yellow"}.get(rec.status)
    line(f"{title} of {rec.asset_key}", "bold")
    fields = [
        ("run id", rec.run_id),
        ("time", fmt_time(rec.started_at)),
        ("duration", fmt_duration(rec.duration_s)),
        ("status", rec.status),
    ]
    if rec.partition_key is not None:
        fields.append(("partition", rec.partition_key))
    if rec.io_manager is not None:
        fields.append(("I/O manager", rec.io_manager))
    if rec.status == "success":
        fields.append(("stored at", storage_location(rec.metadata) or "-"))
    for name, value in fields:
        line(f"  {name + ':':<13}{value}", style if name == "status" else None)
    if rec.metadata:
        line("  metadata:")
        width = max(len(k) for k in rec.metadata) + 1
        for k, v in sorted(rec.metadata.items()):
            line(f"    {k + ':':<{width}} {_text(v)}")
    if rec.error:
        line("  error:" if rec.status == "failed" else "  reason:")
        for text in rec.error.splitlines():
            line(f"    {text}", "red" if rec.status == "failed" else None)


def _print_history(key: str, records: list[HistoryRecord]) -> int:
    if not records:
        line(f"asset {key!r} has not been materialized yet")
        return 1
    partitioned = any(r.partition_key is not None for r in records)
    rows = []
    for r in records:
        ok = r.status == "success"
        detail = storage_location(r.metadata) if ok else error_summary(r.error or "")
        row = [
            r.run_id,
            fmt_time(r.started_at),
            fmt_duration(r.duration_s),
            r.status,
            detail or "-",
        ]
        if partitioned:
            row.insert(3, r.partition_key or "-")
        rows.append(row)
    headers = ["run id", "time", "duration", "status", "detail"]
    if partitioned:
        headers.insert(3, "partition")
    title = f"last {len(rows)} materialization attempt{'s' if len(rows) != 1 else ''} of {key}"
    print_table(title, headers, rows)
    return 0
