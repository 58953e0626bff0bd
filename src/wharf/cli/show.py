"""``wharf show KEY``: the last materialization of an asset (or its recent runs) from history."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wharf.cli.common import (
    CliError,
    describe_error,
    error_summary,
    fmt_duration,
    fmt_time,
    line,
    print_table,
)
from wharf.cli.load import load_definitions

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions
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


def _known_keys(
    history: RunHistory, args: argparse.Namespace
) -> tuple[set[str], str, Definitions | None]:
    known = set(history.asset_keys())
    where = f"the run history ({history.path})"
    defs = None
    if args.module or args.file:
        defs, location = load_definitions(args.module, args.file, args.attribute)
        known |= {k.to_user_string() for k in defs.asset_graph.by_key}
        where = f"{location} or {where}"
    return known, where, defs


def run(args: argparse.Namespace) -> int:
    """Show the asset's last materialization; exit 2 for an unknown key, 1 if never run."""
    from wharf._core.history import RunHistory
    from wharf._core.keys import AssetKey

    key = AssetKey.from_user_string(args.key).to_user_string()
    with RunHistory() as history:
        known, where, defs = _known_keys(history, args)
        if key not in known:
            listed = ", ".join(sorted(known))
            hint = f"expected one of [{listed}]" if known else "nothing has been materialized yet"
            msg = f"no asset {key!r} in {where}: {hint}"
            raise CliError(msg)
        if getattr(args, "versions", False):
            return _print_versions(key, defs, args.limit)
        if args.history:
            records = history.for_asset(key, limit=args.limit)
            last = latest = None
        else:
            records = []
            last, latest = history.last(key), history.last(key, status=None)
        logs = history.logs(latest.run_id, key) if getattr(args, "logs", False) and latest else []
        checks = [
            rec
            for name in history.asset_keys()
            if name.startswith(f"{key}#") and (rec := history.last(name, status=None)) is not None
        ]
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
        if args.rows:
            _print_first_rows(last, defs, args.rows)
    if checks:
        line()
        line(f"asset checks of {key} (latest evaluation)", "bold")
        for rec in checks:
            verdict = _check_verdict(rec)
            when = f"{fmt_time(rec.started_at)}, run {rec.run_id}"
            style = "green" if verdict == "passed" else "red"
            line(f"  {rec.asset_key.partition('#')[2]}: {verdict} ({when})", style)
            for k, v in sorted(rec.metadata.items()):
                if k not in ("passed", "severity"):
                    line(f"    {k}: {_text(v)}")
    if getattr(args, "logs", False):
        from wharf.cli.logs import print_log_lines

        line()
        line(f"logs of {key} in run {latest.run_id}", "bold")
        print_log_lines(logs, with_key=False)
    return 0


def _check_verdict(rec: HistoryRecord) -> str:
    """``passed``, ``failed (error)``/``failed (warn)``, or why the check did not evaluate."""
    if rec.metadata.get("passed") is True:
        return "passed"
    if "passed" in rec.metadata:
        return f"failed ({str(rec.metadata.get('severity', 'ERROR')).lower()})"
    return f"{rec.status}: {error_summary(rec.error or '')}"


def first_rows(rec: HistoryRecord, defs: Definitions | None, limit: int) -> Any:
    """The first ``limit`` rows of the stored value as a ``pyarrow.Table``, the store reading
    no more than that; or a sentence saying why they cannot be shown.

    A table I/O manager of the code location reads them (``LIMIT``); a local Parquet file
    (the ``path`` metadata) is read without one, only its first batches.
    """
    from wharf._core.keys import AssetKey

    key = AssetKey.from_user_string(rec.asset_key)
    asset = defs.asset_graph.by_key.get(key) if defs is not None else None
    manager = defs.resources.get(rec.io_manager or "io_manager") if defs is not None else None
    preview = getattr(manager, "preview_table", None)
    if asset is not None and preview is not None:
        return preview(key, getattr(asset, "metadata", {}), limit)
    path = rec.metadata.get("path")
    if isinstance(path, str) and path.endswith(".parquet") and Path(path).is_file():
        from wharf._deps import require

        pq = require("pyarrow.parquet", purpose="showing stored rows")
        parquet = pq.ParquetFile(path)
        batch = next(parquet.iter_batches(batch_size=max(limit, 1)), None)
        table = parquet.schema_arrow.empty_table() if batch is None else batch
        return require("pyarrow").table(table).slice(0, limit)
    if rec.metadata.get("table") is None and not str(path or "").endswith(".parquet"):
        return "the stored value is not a table"
    if defs is None:
        return "pass the code location (-f FILE or -m MODULE) to read them through its I/O manager"
    name = type(manager).__name__ if manager is not None else rec.io_manager
    return f"{name} cannot read a limited number of rows"


def _print_first_rows(rec: HistoryRecord, defs: Definitions | None, limit: int) -> None:
    try:
        rows = first_rows(rec, defs, limit)
    except Exception as exc:  # showing rows is a courtesy: the record above stands
        line(f"  first rows: not shown ({describe_error(exc)})")
        return
    if isinstance(rows, str):
        line(f"  first rows: not shown ({rows})")
        return
    cells = [["null" if v is None else str(v) for v in row.values()] for row in rows.to_pylist()]
    line(f"  first {len(cells)} row{'s' * (len(cells) != 1)}:")
    table = [rows.column_names, *cells]
    widths = [max(len(r[i]) for r in table) for i in range(len(rows.column_names))]
    for i, row in enumerate(table):
        text = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        line(f"    {text}", "bold" if i == 0 else None)


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


def _print_versions(key: str, defs: Definitions | None, limit: int) -> int:
    """The versions the asset's store keeps, newest first (``--limit`` of them)."""
    if defs is None:
        msg = f"wharf show {key} --versions asks the asset's I/O manager: pass -f FILE or -m MODULE"
        raise CliError(msg)
    if key not in {k.to_user_string() for k in defs.asset_graph.by_key}:
        msg = f"asset {key!r} is in the run history but not in the code location"
        raise CliError(msg)
    from wharf.errors import WharfError

    try:
        versions = defs.get_asset_versions(key)
    except WharfError as exc:  # a store that keeps none, or a table never stored
        raise CliError(describe_error(exc), exit_code=1) from exc
    if not versions:
        line(f"asset {key!r} has no stored versions")
        return 1
    rows = [
        [str(v.version), fmt_time(v.timestamp.timestamp()), v.operation or "-", v.run_id or "-"]
        for v in versions[:limit]
    ]
    rows[0][0] += " (current)"
    more = f", newest first, of {len(versions)}" if len(versions) > limit else ", newest first"
    title = f"{len(rows)} stored version{'s' * (len(rows) != 1)} of {key}{more}"
    print_table(title, ["version", "time", "operation", "run id"], rows)
    return 0
