"""The process a launched run goes in: ``python -m wharf.ui.worker SPEC_JSON``.

The spec names the code location and the planned runs (a backfill is one run per partition, or
per range of partitions as the backfill policies say, each with its selection, partition or
``partition_range`` and run id) and the run config. The worker prints one JSON
line per step start and end, so the server can show progress before the run history has the
step's row; the history stays the record of what happened.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from wharf._core.execution import RunListener, StepOutcome
from wharf._core.keys import AssetKey


def emit(event: dict[str, Any]) -> None:
    """One JSON line on stdout, flushed at once."""
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class _Progress(RunListener):
    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def on_start(self, key: AssetKey) -> None:
        emit({"event": "step_start", "run_id": self.run_id, "asset_key": key.to_user_string()})

    def on_finish(self, outcome: StepOutcome) -> None:
        emit(
            {
                "event": "step_end",
                "run_id": self.run_id,
                "asset_key": outcome.key.to_user_string(),
                "status": outcome.status,
            }
        )


def run_spec(spec: dict[str, Any]) -> int:
    """Run every run of ``spec``; 0 if all succeeded."""
    from wharf.cli.load import load_definitions
    from wharf.cli.materialize import quiet_wharf_log

    defs, _ = load_definitions(spec.get("module"), spec.get("file"), spec.get("attribute"))
    ok = True
    for planned in spec["runs"]:
        run_id, partition = planned["run_id"], planned.get("partition_key")
        span = planned.get("partition_range")  # a backfill policy's run of several partitions
        shown = f"{span[0]}...{span[1]}" if span else partition
        emit({"event": "run_start", "run_id": run_id, "partition_key": shown})
        kwargs: dict[str, Any] = {
            "raise_on_error": False,
            "partition_key": partition,
            "run_id": run_id,
            "listener": _Progress(run_id),
        }
        if span:
            from wharf._core.partitioning.definitions import PartitionKeyRange

            kwargs["partition_key_range"] = PartitionKeyRange(span[0], span[1])
        if spec.get("run_config"):
            kwargs["run_config"] = spec["run_config"]
        if spec.get("tags"):
            kwargs["tags"] = spec["tags"]
        try:
            with quiet_wharf_log():
                if planned.get("job"):  # the job's config, tags and executor apply
                    job = defs.get_job_def(planned["job"])
                    result = job.run(asset_selection=planned.get("selection"), **kwargs)
                else:
                    result = defs.materialize(planned.get("selection"), **kwargs)
            success = bool(result.success)
        except Exception as exc:  # a selection or config problem: the run never started
            emit({"event": "run_error", "run_id": run_id, "error": f"{type(exc).__name__}: {exc}"})
            success = False
        emit({"event": "run_end", "run_id": run_id, "success": success})
        ok = ok and success
        if not success and planned.get("required"):
            break  # the unpartitioned assets upstream of a backfill failed: stop
    return 0 if ok else 1


def main() -> int:
    """Entry point: the spec is the first argument."""
    return run_spec(json.loads(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
