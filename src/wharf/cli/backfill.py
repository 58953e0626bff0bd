"""``wharf materialize --partitions A...B``: one run per partition, in order, then a summary.

Assets with ``backfill_policy=BackfillPolicy.single_run()`` get one run of the whole range
(``multi_run(n)``: runs of at most ``n`` consecutive partitions).

The keys are checked against every selected partitioned asset before anything runs. Selected
unpartitioned assets run once: before the partitions when they are upstream of them, after
when downstream. A failed partition does not stop the others; the summary lists the failed
partitions and the exit code is 1 if any failed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from wharf.cli.common import fmt_duration, line
from wharf.cli.materialize import report

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions
    from wharf._core.keys import AssetKey


def backfill(
    defs: Definitions,
    planned: list[AssetKey],
    text: str,
    *,
    show_traceback: bool,
    run_config: Any = None,
) -> int:
    """Run the backfill ``text`` (``A...B`` or ``A,B,C``) of the ``planned`` assets, each run
    with ``run_config``."""
    from wharf._core.instance import DagsterInstance
    from wharf._core.partitioning.runs import parse_partition_selection, plan_backfill

    instance = DagsterInstance.get()
    plan = plan_backfill(
        defs.asset_graph, planned, parse_partition_selection(text), instance=instance
    )
    names = ", ".join(k.to_user_string() for k in plan.partitioned)
    span = plan.keys[0] if len(plan.keys) == 1 else f"{plan.keys[0]} ... {plan.keys[-1]}"
    count = f"{len(plan.keys)} partition{'s' if len(plan.keys) != 1 else ''}"
    line(f"backfill of {count} ({span}) of {names}", "bold")
    started = time.perf_counter()
    extra = {"run_config": run_config}
    if plan.before and not _run(
        defs, plan.before, None, "unpartitioned assets", show_traceback, extra
    ):
        line("the unpartitioned assets upstream of the partitions failed: no partition was run")
        return 1
    failed: dict[str, str] = {}
    runs = plan.run_partitions()
    for i, (keys, (partition, key_range)) in enumerate(zip(plan.runs, runs, strict=True), 1):
        if key_range is None:
            label = f"[{i}/{len(runs)}] partition {partition}"
            result = _run_result(defs, plan.partitioned, partition, label, show_traceback, extra)
        else:  # the backfill policy puts the range in one run
            what = f"{key_range.start}...{key_range.end}"
            label = f"[{i}/{len(runs)}] partitions {what} ({len(keys)} in one run)"
            one = {**extra, "partition_key_range": key_range}
            result = _run_result(defs, plan.partitioned, None, label, show_traceback, one)
        if not result.success:
            failed.update(dict.fromkeys(keys, _first_failure(result)))
    ok = (
        _run(defs, plan.after, None, "unpartitioned assets", show_traceback, extra)
        if plan.after
        else True
    )
    line()
    done = len(plan.keys) - len(failed)
    style = "bold green" if not failed and ok else "bold red"
    took = fmt_duration(time.perf_counter() - started)
    total = len(plan.keys)
    line(f"backfill: {done} of {total} partitions succeeded, {len(failed)} failed in {took}", style)
    for key, why in list(failed.items())[:20]:
        line(f"  failed   {key}: {why}", "red")
    if len(failed) > 20:
        line(f"  ... and {len(failed) - 20} more failed partitions", "red")
    if not ok:
        line("  the unpartitioned assets downstream of the partitions failed", "red")
    return 0 if not failed and ok else 1


def _run_result(  # noqa: PLR0917
    defs: Definitions, keys: list[AssetKey], partition: str | None, label: str, tb: bool,
    extra: dict[str, Any],
) -> Any:  # fmt: skip
    from wharf.cli.progress import make_progress

    line()
    line(label, "bold")
    started = time.perf_counter()
    with make_progress(keys) as progress:  # inside the caller's wharf_log()
        result = defs.materialize(
            selection=keys,
            partition_key=partition,
            raise_on_error=False,
            listener=progress,
            **extra,
        )
    report(result, time.perf_counter() - started, show_traceback=tb)
    return result


def _run(  # noqa: PLR0917
    defs: Definitions, keys: list[AssetKey], partition: str | None, label: str, tb: bool,
    extra: dict[str, Any],
) -> bool:  # fmt: skip
    return bool(_run_result(defs, keys, partition, label, tb, extra).success)


def _first_failure(result: Any) -> str:
    for outcome in result.outcomes:
        if outcome.status == "failed":  # its error was printed with the partition's run
            return f"asset {outcome.key.to_user_string()!r} failed"
    return "an asset was skipped"
