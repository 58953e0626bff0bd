"""``wharf materialize``: run the selected assets with live progress, then a summary."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from wharf._core.logs import STEP_LOGGER
from wharf.cli.common import CliError, fmt_duration, line
from wharf.cli.load import load_definitions


def selection_from_args(args: argparse.Namespace) -> list[str] | None:
    """The ``--select`` selections (repeated and/or comma-separated; an expression with spaces,
    quotes or parentheses stays whole), or None for every asset."""
    if not args.select:
        return None
    out: list[str] = []
    for item in args.select:
        if any(c in item for c in ' ()"'):
            out.append(item.strip())
        else:
            out.extend(part.strip() for part in item.split(",") if part.strip())
    return out


def run_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``Definitions.materialize`` from the run options.

    New run options (``--executor``) map to keywords here.
    """
    kwargs: dict[str, Any] = {
        "selection": selection_from_args(args),
        "raise_on_error": False,
        "partition_key": getattr(args, "partition", None),
    }
    if getattr(args, "config", None):
        kwargs["run_config"] = load_run_config(args.config)
    if getattr(args, "stale_only", False):
        kwargs["skip_unchanged"] = True
    name = getattr(args, "executor", None)
    if name is not None or getattr(args, "dask_address", None):
        from wharf._core.executors import named_executor

        kwargs["executor"] = named_executor(
            name or "dask", max_concurrent=args.max_concurrent, address=args.dask_address
        )
    elif getattr(args, "max_concurrent", None):
        from wharf._core.executors import named_executor

        kwargs["executor"] = named_executor("multiprocess", max_concurrent=args.max_concurrent)
    return kwargs


def load_run_config(paths: list[str]) -> dict[str, Any]:
    """The run config in the YAML files ``paths``, merged in order (later files win, dicts are
    merged key by key), as Dagster's ``-c`` reads them."""
    import yaml

    from wharf.cli.common import CliError

    merged: dict[str, Any] = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                loaded = yaml.safe_load(f)
        except OSError as exc:
            msg = f"--config {path}: cannot read the file ({exc.strerror or exc})"
            raise CliError(msg) from exc
        except yaml.YAMLError as exc:
            msg = f"--config {path}: not valid YAML ({exc})"
            raise CliError(msg) from exc
        if loaded is None:
            continue
        if not isinstance(loaded, dict):
            got = type(loaded).__name__
            msg = f"--config {path}: expected a mapping (ops:, resources:), got {got}"
            raise CliError(msg)
        merged = _deep_merge(merged, loaded)
    return merged


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class _NotAFailure(logging.Filter):
    """Drops the run's own "asset X failed" records: the CLI prints each failure once; and the
    assets' own lines (``wharf.asset``): the progress display shows those, with their asset."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == STEP_LOGGER.name:
            return False
        return not getattr(record, "wharf_failure", False)


@contextmanager
def quiet_wharf_log() -> Iterator[None]:
    """Keep the ``wharf`` logger's fallback output away (for callers that report failures
    themselves and show no log, such as the web UI's worker)."""
    logger = logging.getLogger("wharf")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def log_level_from_args(args: argparse.Namespace) -> int:
    """The ``--log-level`` as a :mod:`logging` level (default info)."""
    from wharf._core.logs import LEVELS

    return LEVELS[str(getattr(args, "log_level", None) or "info")]


@contextmanager
def wharf_log(level: str = "info") -> Iterator[None]:
    """Show the ``wharf`` logger's records (``context.log.info(...)`` included) on stderr
    from ``level`` up (``info`` unless ``--log-level`` says otherwise), for one run."""
    logger = logging.getLogger("wharf")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s %(message)s"))
    handler.addFilter(_NotAFailure())
    before = logger.level
    logger.setLevel(level.upper())
    logger.addHandler(handler)
    # Python logging in asset bodies is captured from this level up
    root = logging.getLogger()
    root_before = root.level
    root.setLevel(level.upper())
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)
        root.setLevel(root_before)


def check_partition_option(defs: Any, planned: list[Any], key: str | None) -> None:
    """Check ``--partition`` before the run, with hints in the CLI's terms: a missing key is
    shown as ``--partition KEY``, and several keys (``eu,us``, ``A...B``) point to
    ``--partitions``."""
    from wharf._core.instance import DagsterInstance
    from wharf._core.partitioning.runs import check_run_partition
    from wharf.errors import WharfError

    hint = "--partition {key} (or --partitions A...B|A,B,C for one run per partition)"
    try:
        check_run_partition(
            defs.asset_graph, planned, key, instance=DagsterInstance.get(), hint=hint
        )
    except WharfError as exc:
        if key is not None and ("," in key or "..." in key):
            msg = (
                f"{exc.message}; --partition takes one key: for one run per partition of "
                f"{key!r} use --partitions {key}"
            )
            raise CliError(msg) from None
        raise


def run(args: argparse.Namespace) -> int:
    """Materialize; exit 0 when every asset succeeded, 1 when one failed or was skipped."""
    from wharf.cli.progress import make_progress

    defs, where = load_definitions(args.module, args.file, args.attribute)
    kwargs = run_kwargs(args)
    job = defs.get_job_def(args.job) if getattr(args, "job", None) else None
    if hasattr(job, "graph"):  # a job of ops
        return run_op_job(job, args, kwargs)
    planned = defs.asset_graph.resolve_selection(kwargs["selection"])
    if job is not None:
        planned = [k for k in planned if k in set(job.asset_keys)]
        kwargs["selection"] = planned
    if not planned:
        line(f"nothing to materialize: {where!r} has no assets to run")
        return 0
    if getattr(args, "partitions", None):
        from wharf.cli.backfill import backfill

        with wharf_log(args.log_level):
            return backfill(
                defs, planned, args.partitions, show_traceback=args.traceback,
                run_config=kwargs.get("run_config"),
            )  # fmt: skip
    check_partition_option(defs, planned, kwargs["partition_key"])
    started = time.perf_counter()
    with wharf_log(args.log_level), make_progress(planned, log_level_from_args(args)) as progress:
        if job is not None:
            selection = kwargs.pop("selection")
            result = job.run(listener=progress, asset_selection=selection, **kwargs)
        else:
            result = defs.materialize(listener=progress, **kwargs)
    report(result, time.perf_counter() - started, show_traceback=args.traceback)
    return 0 if result.success else 1


def run_op_job(job: Any, args: argparse.Namespace, kwargs: dict[str, Any]) -> int:
    """``--job NAME`` for a job of ops: its steps, with the same progress, summary, exit code
    and history as assets; ``--select`` is its ``op_selection``."""
    from wharf._core.keys import AssetKey
    from wharf.cli.progress import make_progress

    if getattr(args, "partitions", None) or kwargs.pop("skip_unchanged", False):
        msg = f"job {job.name!r} runs ops: --partitions and --stale-only are for asset jobs"
        raise CliError(msg)
    selection = kwargs.pop("selection")
    planned = [AssetKey([k]) for k in job.step_keys(kwargs.get("run_config"))]
    started = time.perf_counter()
    with wharf_log(args.log_level), make_progress(planned, log_level_from_args(args)) as progress:
        result = job.run(listener=progress, op_selection=selection, **kwargs)
    report(result, time.perf_counter() - started, show_traceback=args.traceback)
    return 0 if result.success else 1


def report(result: Any, elapsed: float, *, show_traceback: bool) -> None:
    """The failures of a run (with their messages), then its one-line summary."""
    outcomes = result.outcomes
    failed = [o for o in outcomes if o.status == "failed"]
    skipped = [o for o in outcomes if o.status == "skipped"]
    unchanged = [o for o in outcomes if o.status == "unchanged"]
    done = len(outcomes) - len(failed) - len(skipped) - len(unchanged)
    for o in failed:
        line()
        what = "asset" if o.kind == "asset" else o.kind
        line(f"{what} {o.key.to_user_string()!r} failed:", "bold red")
        exc = o.error
        if exc is None:
            line(f"  {o.reason}")
            continue
        if show_traceback:
            for text in traceback.format_exception(exc):
                line(text.rstrip("\n"))
            continue
        message = str(exc).splitlines() or [""]
        line(f"  {type(exc).__name__}: {message[0]}".rstrip())
        for text in message[1:]:
            line(f"  {text}")
        for note in getattr(exc, "__notes__", ()):
            line(f"  {note}", "dim")
    line()
    counts = f"{done} done, {len(failed)} failed, {len(skipped)} skipped"
    if unchanged:
        counts += f", {len(unchanged)} unchanged (not run)"
    style = "bold green" if result.success else "bold red"
    part = f" (partition {result.partition_key})" if result.partition_key is not None else ""
    line(f"run {result.run_id}{part}: {counts} in {fmt_duration(elapsed)}", style)
    for o in failed:  # the error itself is printed once, above
        line(f"  failed   {o.key.to_user_string()}", "red")
    for o in skipped:
        line(f"  skipped  {o.key.to_user_string()}: {o.reason}", "yellow")
    for e in getattr(result, "get_asset_check_evaluations", list)():
        verdict = "passed" if e.passed else f"failed ({e.severity.value.lower()})"
        style = "green" if e.passed else ("red" if e.severity.value == "ERROR" else "yellow")
        line(f"  check    {e.asset_key.to_user_string()}#{e.check_name}: {verdict}", style)
    if failed and not show_traceback:
        line("full tracebacks: rerun with --traceback, or see `wharf show KEY`", "dim")
