"""The JSON the page and the CLI share: the asset graph, one asset, the runs, one run.

Every function takes the loaded ``Definitions`` and/or a :class:`~wharf._core.history.RunHistory`
and returns plain JSON values; the run history is the only source of what happened.

Statuses of an asset: ``never`` (no successful materialization recorded), ``fresh``, ``stale``
(an upstream asset was materialized after it), ``failed`` (its newest attempt failed).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wharf._core.assets import AssetsDefinition
from wharf._core.keys import AssetKey
from wharf._core.resources import io_manager_key_of

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions
    from wharf._core.history import HistoryRecord, RunHistory, RunSummary

ROW_COUNT_KEYS = ("dagster/row_count", "row_count")
SCHEMA_KEYS = ("dagster/column_schema", "schema")
WHERE_KEYS = ("dagster/table_name", "table", "dagster/uri", "uri", "path")


def _first(metadata: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((metadata[k] for k in keys if k in metadata), None)


def _manager_type(defs: Definitions, im_key: str) -> str:
    resource = defs.resources.get(im_key)
    return type(resource).__name__ if resource is not None else "FilesystemIOManager"


def _status(last: Any, ok: Any, ups: list[Any]) -> str:
    if last is not None and last.status == "failed":
        return "failed"
    if ok is None:
        return "never"
    newer = any(u is not None and u.started_at > ok.started_at for u in ups)
    return "stale" if newer else "fresh"


@dataclass(frozen=True)
class Shape:
    """What the pages need of the definitions that no run changes: the keys in order, each
    one's upstream and downstream keys (as text), its node without status, the edges and the
    checks. Built once per loaded ``Definitions`` (a reload makes a new one)."""

    order: list[str]
    upstream: dict[str, list[str]]
    downstream: dict[str, list[str]]
    nodes: dict[str, dict[str, Any]]
    edges: list[dict[str, str]]
    checks: list[dict[str, Any]]


_SHAPES: weakref.WeakKeyDictionary[Any, Shape] = weakref.WeakKeyDictionary()


def shape(defs: Definitions) -> Shape:
    """The :class:`Shape` of ``defs`` (kept while ``defs`` lives)."""
    found = _SHAPES.get(defs)
    if found is None:
        found = _SHAPES[defs] = _shape(defs)
    return found


def _shape(defs: Definitions) -> Shape:
    g = defs.asset_graph
    order = [k.to_user_string() for k in g.toposort()]
    upstream: dict[str, list[str]] = {}
    downstream: dict[str, list[str]] = {k: [] for k in order}
    edges = []
    for key in g.toposort():
        name, item = key.to_user_string(), g.by_key[key]
        inputs = {i.key for i in item.inputs} if isinstance(item, AssetsDefinition) else set()
        upstream[name] = [u.to_user_string() for u in g.upstream(key)]
        for up in g.upstream(key):
            downstream[up.to_user_string()].append(name)
            kind = "input" if up in inputs else "dep"
            edges.append({"from": up.to_user_string(), "to": name, "kind": kind})
    nodes = {k.to_user_string(): _node(defs, k) for k in g.toposort()}
    return Shape(order, upstream, downstream, nodes, edges, asset_checks(defs))


def status_of(defs: Definitions, history: RunHistory, key: AssetKey) -> str:
    """The status of one asset (reads only its own and its upstreams' newest records)."""
    name = key.to_user_string()
    ups = [history.last(u) for u in shape(defs).upstream[name]]
    return _status(history.last(name, status=None), history.last(name), ups)


def statuses(
    defs: Definitions,
    history: RunHistory,
    newest: dict[str, HistoryRecord] | None = None,
    good: dict[str, HistoryRecord] | None = None,
) -> dict[str, str]:
    """The status of every asset of ``defs``, by key text (``newest`` and ``good``: the
    history's newest and newest successful rows by key, when the caller has them)."""
    found = shape(defs)
    newest = newest if newest is not None else history.latest_by_asset()
    good = good if good is not None else history.latest_by_asset("success")
    return {
        name: _status(newest.get(name), good.get(name), [good.get(u) for u in found.upstream[name]])
        for name in found.order
    }


def _node(defs: Definitions, key: AssetKey) -> dict[str, Any]:
    """One asset's node, without what the run history says (status, last stored)."""
    item = defs.asset_graph.by_key[key]
    im_key = io_manager_key_of(defs.asset_graph, key)
    executable = isinstance(item, AssetsDefinition)
    return {
        "key": key.to_user_string(),
        "kind": "asset" if executable else "source",
        "group": getattr(item, "group_name", None) or "default",
        "kinds": sorted(getattr(item, "kinds", None) or ()),
        "tags": dict(getattr(item, "tags", None) or {}),
        "description": getattr(item, "description", None),
        "io_manager": im_key,
        "io_manager_type": _manager_type(defs, im_key),
        "partitioned": item.partitions_def is not None,
    }


def _with_status(node: dict[str, Any], status: str, last: HistoryRecord | None) -> Any:
    return {**node, "status": status, "last_materialized": last.started_at if last else None}


def _good(
    found: Shape, history: RunHistory, newest: dict[str, HistoryRecord]
) -> dict[str, HistoryRecord]:
    """The newest successful row of each asset: its newest row when that succeeded (most do),
    else one indexed look-up (a second scan of the whole history would cost more)."""
    good = {}
    for name in found.order:
        row = newest.get(name)
        if row is not None and row.status != "success":
            row = history.last(name)
        if row is not None:
            good[name] = row
    return good


def graph(defs: Definitions, history: RunHistory) -> dict[str, Any]:
    """Every asset as a node (status included), every input or ``deps`` edge, and every asset
    check with its newest result."""
    found = shape(defs)
    newest = history.latest_by_asset()
    good = _good(found, history, newest)
    status = statuses(defs, history, newest, good)
    nodes = [_with_status(found.nodes[k], status[k], good.get(k)) for k in found.order]
    checks = check_results(defs, history, newest)
    groups = sorted({n["group"] for n in nodes})
    return {"assets": nodes, "edges": found.edges, "checks": checks, "groups": groups}


def asset_checks(defs: Definitions) -> list[dict[str, Any]]:
    """Every asset check (``@asset_check`` and ``check_specs=``): its key (``asset#name``, as
    run history keeps its evaluations), name, asset, description and whether it blocks."""
    found: dict[str, dict[str, Any]] = {}

    def add(asset: AssetKey, name: str, description: str | None, blocking: bool) -> None:
        key = f"{asset.to_user_string()}#{name}"
        found.setdefault(
            key, {"key": key, "name": name, "asset": asset.to_user_string(),
                  "description": description, "blocking": bool(blocking)},
        )  # fmt: skip

    for check in getattr(defs, "asset_checks", None) or []:
        if isinstance(getattr(check, "asset_key", None), AssetKey):
            add(check.asset_key, check.name, check.description, check.blocking)
    items = {id(i): i for i in defs.asset_graph.by_key.values()}
    for item in items.values():
        for spec in getattr(item, "check_specs", None) or ():
            add(spec.asset_key, spec.name, spec.description, spec.blocking)
    return sorted(found.values(), key=lambda c: c["key"])


def _check_status(row: HistoryRecord | None) -> str:
    """``never`` (not evaluated), ``passed``, ``failed`` (a result that did not pass; its
    severity says how bad), or ``error`` (the check's body raised before it returned one)."""
    if row is None:
        return "never"
    passed = row.metadata.get("passed")
    if passed is None:
        return "error" if row.status == "failed" else "never"
    return "passed" if passed else "failed"


def check_results(
    defs: Definitions, history: RunHistory, latest: dict[str, HistoryRecord] | None = None
) -> list[dict[str, Any]]:
    """Every asset check with its newest evaluation (status, severity, when, run, metadata)."""
    newest = latest if latest is not None else history.latest_by_asset()
    out = []
    for check in shape(defs).checks:
        row = newest.get(check["key"])
        out.append(
            {
                **check,
                "status": _check_status(row),
                "severity": row.metadata.get("severity") if row is not None else None,
                "evaluated_at": row.started_at if row is not None else None,
                "run_id": row.run_id if row is not None else None,
                "metadata": row.metadata if row is not None else {},
                "metadata_kinds": (row.metadata_kinds or {}) if row is not None else {},
                "error": row.error if row is not None and row.status == "failed" else None,
            }
        )
    return out


def _record(r: HistoryRecord) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "asset_key": r.asset_key,
        "partition_key": r.partition_key,
        "status": r.status,
        "started_at": r.started_at,
        "duration_s": r.duration_s,
        "io_manager": r.io_manager,
        "metadata": r.metadata,
        "metadata_kinds": r.metadata_kinds or {},
        "error": r.error,
    }


def asset(defs: Definitions, history: RunHistory, key_text: str, limit: int = 1000) -> Any:
    """One asset's page: its node, latest materialization (where, rows, columns, metadata),
    history for the plot, partition status and latest check results.

    Raises:
        UnknownAssetError: no asset has that key.
    """
    item = defs._item(key_text)
    key = item.key
    name = key.to_user_string()
    status = status_of(defs, history, key)
    latest = history.last(name)
    found = shape(defs)
    node = _with_status(found.nodes[name], status, latest)
    node["upstream"] = list(found.upstream[name])
    node["downstream"] = list(found.downstream[name])
    node["code_version"] = getattr(item, "code_version", None)
    node["definition_metadata"] = {k: str(v) for k, v in dict(item.metadata).items()}
    rows = history.for_asset(name, limit)
    node["latest"] = None
    if latest is not None:
        meta = latest.metadata
        node["latest"] = {
            **_record(latest),
            "row_count": _first(meta, ROW_COUNT_KEYS),
            "schema": _first(meta, SCHEMA_KEYS),
            "where": _first(meta, WHERE_KEYS),
        }
    node["history"] = [
        {
            "run_id": r.run_id,
            "started_at": r.started_at,
            "duration_s": r.duration_s,
            "status": r.status,
            "partition_key": r.partition_key,
            "row_count": _first(r.metadata, ROW_COUNT_KEYS),
        }
        for r in rows
    ]
    node["partitions"] = _partitions(defs, history, item, name)
    node["checks"] = _checks_of(defs, history, name)
    return node


def _partitions(defs: Definitions, history: RunHistory, item: Any, name: str) -> Any:
    pdef = item.partitions_def
    if pdef is None:
        return None
    from wharf._core.instance import DagsterInstance

    try:
        keys = pdef.get_partition_keys(dynamic_partitions_store=DagsterInstance.get())
    except Exception as exc:  # a dynamic definition with no keys yet, a failing partition_fn
        return {"keys": [], "status": {}, "error": f"{type(exc).__name__}: {exc}"}
    shown = keys[-500:]
    found = history.partition_status(name)
    return {
        "total": len(keys),
        "keys": shown,
        "status": {k: found.get(k, "never") for k in shown},
    }


def _checks_of(defs: Definitions, history: RunHistory, name: str) -> list[dict[str, Any]]:
    """The checks of one asset with their newest results (reads only their own rows)."""
    mine = [c for c in shape(defs).checks if c["asset"] == name]
    latest = {c["key"]: r for c in mine if (r := history.last(c["key"], status=None))}
    return [c for c in check_results(defs, history, latest) if c["asset"] == name]


def _summary(s: RunSummary) -> dict[str, Any]:
    return {
        "run_id": s.run_id,
        "status": s.status,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "duration_s": max(0.0, s.ended_at - s.started_at),
        "assets": s.assets,
        "failed": s.failed,
        "skipped": s.skipped,
        "partition_key": s.partition_key,
    }


def runs(history: RunHistory, limit: int = 100) -> list[dict[str, Any]]:
    """The newest runs, newest first, with status and duration."""
    return [_summary(s) for s in history.runs(limit)]


def run(history: RunHistory, run_id: str) -> dict[str, Any] | None:
    """One run: its steps in the order they finished, with start, duration and errors
    (None if the history has no such run)."""
    steps = history.for_run(run_id)
    if not steps:
        return None
    start = min(s.started_at for s in steps)
    end = max(s.started_at + s.duration_s for s in steps)
    failed = sum(s.status == "failed" for s in steps)
    skipped = sum(s.status == "skipped" for s in steps)
    return {
        "run_id": run_id,
        "status": "failed" if failed or skipped else "success",
        "started_at": start,
        "ended_at": end,
        "duration_s": end - start,
        "steps": [_record(s) for s in steps],
        "logs": [
            {"asset_key": k, "time": t, "level": level, "logger": name, "message": message}
            for k, t, level, name, message in history.logs(run_id)
        ],
    }
