"""``wharf list``: the assets of a code location with their last materialization."""

from __future__ import annotations

import argparse
from typing import Any

from wharf.cli.common import fmt_time, print_table
from wharf.cli.load import load_definitions


def manager_class_name(resources: dict[str, Any], key: str) -> str:
    """The class of the I/O manager under ``key``; never its config (it may hold secrets)."""
    from wharf._core.io_managers import IOManagerDefinition
    from wharf._core.resources import DEFAULT_IO_MANAGER_KEY

    if key not in resources:
        return "FilesystemIOManager" if key == DEFAULT_IO_MANAGER_KEY else "missing"
    res = resources[key]
    if isinstance(res, IOManagerDefinition):
        return f"@io_manager {getattr(res.fn, '__name__', '?')}"
    return type(res).__name__


def run(args: argparse.Namespace) -> int:
    """Print one row per asset: key, group, I/O manager, upstream, last materialization."""
    from wharf._core.asset_args import describe
    from wharf._core.assets import AssetsDefinition
    from wharf._core.history import RunHistory
    from wharf._core.resources import io_manager_key_of
    from wharf._core.staleness import staleness

    defs, where = load_definitions(args.module, args.file, args.attribute)
    graph = defs.asset_graph
    with RunHistory() as history:
        latest = history.latest_by_asset()
        stale = staleness(graph, history)
    rows = []
    for key in graph.toposort():
        item = graph.by_key[key]
        name = key.to_user_string()
        im_key = io_manager_key_of(graph, key)
        upstream = ", ".join(k.to_user_string() for k in graph.upstream(key)) or "-"
        record = latest.get(name)
        external = not isinstance(item, AssetsDefinition)
        status = record.status if record else ("external" if external else "never")
        rows.append([
            name,
            item.group_name or "default",
            f"{im_key} ({manager_class_name(defs.resources, im_key)})",
            upstream,
            describe(item) or "-",
            fmt_time(record.started_at) if record else "-",
            status,
            stale[key].describe() if key in stale else "-",
        ])  # fmt: skip
    title = f"{len(rows)} asset{'s' if len(rows) != 1 else ''} in {where}"
    headers = [
        "key", "group", "I/O manager", "upstream", "kinds, owners, tags", "last materialization",
        "status", "staleness",
    ]  # fmt: skip
    print_table(title, headers, rows)
    list_jobs(defs)
    return 0


def _job_nodes(job: Any) -> str:
    """What a job runs: its assets, or the ops of a job of ops."""
    if hasattr(job, "graph"):
        return "ops: " + ", ".join(job.node_names)
    return ", ".join(k.to_user_string() for k in job.asset_keys) or "-"


def list_jobs(defs: Any) -> None:
    """One row per job: name, its assets, and the schedules and sensors that start it."""
    if not defs.jobs:
        return
    starters: dict[str, list[str]] = {}
    for item in [*defs.schedules, *defs.sensors]:
        kind = "schedule" if hasattr(item, "cron_schedule") else "sensor"
        what = (
            f"{item.name} ({item.cron_schedule})" if kind == "schedule" else f"{item.name} (sensor)"
        )
        starters.setdefault(item.job_name, []).append(what)
    rows = [
        [
            job.name,
            _job_nodes(job),
            ", ".join(starters.get(job.name, [])) or "-",
            job.description or "",
        ]
        for job in sorted(defs.jobs, key=lambda j: j.name)
    ]
    print()
    title = f"{len(rows)} job{'s' if len(rows) != 1 else ''}"
    print_table(title, ["job", "assets", "started by", "description"], rows)
