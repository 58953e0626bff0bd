"""The killed-writer checks of the conformance suite (rows of ``CHECKS`` in :mod:`.conformance`).

A write whose process is killed with ``SIGKILL`` runs no ``except`` or ``finally``: only the
store's own atomic step (a transaction, a swap, a commit, a rename, the final upload) can keep
the value as it was. Each check runs writes in a child process, whole-value and into a
partition, with a source that kills its process once every row has streamed (the store has
read them all and committed nothing), then reads the value in this process:
:func:`check_killed_overwrite` a plain write on every store, :func:`check_write_modes_killed`
an ``append`` and a ``merge`` on the stores that have write modes.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
from pathlib import Path
from typing import Any

import wharf as dg
from wharf.testing.frames import FrameKind

_PARTS = ("eu", "us")
#: imported once in the fork server when this process has them
_HEAVY = ("numpy", "pyarrow", "pyarrow.parquet", "pandas", "polars", "duckdb", "fsspec", "upath")
_APPEND = {"write_mode": "append"}
_MERGE = {"write_mode": "merge", "merge_keys": ["id"]}


def _rows(ids: list[int], v: str, region: str) -> Any:
    import pyarrow as pa

    n = len(ids)
    return pa.table({"id": pa.array(ids, pa.int64()), "v": [v] * n, "k": [region] * n})


def _asset(name: str, value: Any, meta: dict[str, Any], partitioned: bool) -> Any:
    parts = dg.StaticPartitionsDefinition(list(_PARTS)) if partitioned else None
    meta = {"partition_expr": "k", **meta} if partitioned else meta
    return dg.asset(name=name, metadata=meta, partitions_def=parts)(value)


def killed_write(path: str) -> None:
    """In a child process: the write ``path`` describes (a pickled ``(io_manager, name,
    metadata, partition key, environment, working folder)``), its source killing the process
    at its end."""
    import pyarrow as pa

    io, name, meta, key, env, cwd = pickle.loads(Path(path).read_bytes())
    os.environ.clear()  # the test's, not the fork server's (started by an earlier test)
    os.environ.update(env)
    os.chdir(cwd)
    new = _rows([2, 7], "killed", key or "eu")

    def value() -> Any:
        def batches() -> Any:
            yield from new.to_batches()
            os.kill(os.getpid(), signal.SIGKILL)  # every row streamed, nothing committed

        return pa.RecordBatchReader.from_batches(new.schema, batches())

    asset = _asset(name, value, meta, partitioned=key is not None)
    dg.materialize([asset], resources={"io_manager": io}, partition_key=key)


def _stored(case: Any, tmp: Path, kind: FrameKind, name: str, partitioned: bool) -> Any:
    """The rows of asset ``name`` (every partition) as sorted ``(id, v, k)``."""
    sink: list[Any] = []

    def consume(t):  # type: ignore[no-untyped-def]
        sink.append(t)

    consume.__annotations__ = {"t": kind.annotation(), "return": None}
    producer = _asset(name, lambda: None, {}, partitioned)
    consumer = dg.asset(name="consumer", ins={"t": dg.AssetIn(key=name)})(consume)
    resources = {"io_manager": case.io_manager(tmp)}
    dg.materialize([producer, consumer], resources=resources, selection=[consumer])
    got = kind.to_table(sink[0])
    return sorted(zip(*(got.column(c).to_pylist() for c in ("id", "v", "k")), strict=True))


def _put(
    case: Any, tmp: Path, name: str, key: str | None, rows: Any, *, meta: dict[str, Any]
) -> Any:
    """Materialize ``rows`` as asset ``name`` (its partition ``key``, if any) in this process."""
    asset = _asset(name, lambda: rows, meta, partitioned=key is not None)
    resources = {"io_manager": case.io_manager(tmp)}
    return dg.materialize([asset], resources=resources, partition_key=key, raise_on_error=False)


def _killed(case: Any, tmp: Path, name: str, meta: dict[str, Any], key: str | None) -> None:
    """Run the write of ``name`` (``meta``, partition ``key``) in a child that is killed.

    The child is forked from a ``forkserver`` that has wharf and the heavy libraries imported
    (the multiprocess executor's, when it runs first): a new interpreter per kill took 2-3 s of
    imports, the larger part of the suite's time spent in these checks."""
    job = tmp / f"killed-{name}.pickle"
    state = (case.io_manager(tmp), name, meta, key, dict(os.environ), os.getcwd())
    job.write_bytes(pickle.dumps(state))
    ctx: Any = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(
        sorted({"wharf", "wharf.testing.kill_checks"} | {n for n in _HEAVY if n in sys.modules})
    )
    child = ctx.Process(target=killed_write, args=(str(job),))
    child.start()
    child.join(300)
    if child.exitcode is None:  # hung: end it, and fail
        child.kill()
        child.join()
    assert child.exitcode == -signal.SIGKILL, (case.name, meta, child.exitcode)


def check_killed_overwrite(case: Any, kind: FrameKind, tmp: Path) -> None:
    """A writer killed (``SIGKILL``) in the middle of a plain write, whole value or one
    partition, leaves the stored value as it was; the next write then replaces it."""
    for name, keys in (("whole", [None]), ("parted", list(_PARTS))):
        partitioned = keys != [None]
        for key in keys:
            assert _put(
                case, tmp, name, key, _rows([1, 2], f"old-{key}", key or "eu"), meta={}
            ).success
        before = _stored(case, tmp, kind, name, partitioned)
        _killed(case, tmp, name, {}, keys[-1])
        assert _stored(case, tmp, kind, name, partitioned) == before, (case.name, name)
        last = keys[-1] or "eu"
        assert _put(case, tmp, name, keys[-1], _rows([2, 8], "new", last), meta={}).success
        want = sorted({*(r for r in before if r[2] != last), (2, "new", last), (8, "new", last)})
        assert _stored(case, tmp, kind, name, partitioned) == want, (case.name, name)


def check_write_modes_killed(case: Any, kind: FrameKind, tmp: Path) -> None:
    """A writer killed (``SIGKILL``) in the middle of an append or a merge, whole-table or into
    a partition, leaves the table as it was; the next merge then works."""
    for name, keys in (("whole", [None]), ("parted", list(_PARTS))):
        partitioned = keys != [None]

        def put(key: str | None, ids: list[int], v: str, meta: dict[str, Any]) -> Any:
            return _put(case, tmp, name, key, _rows(ids, v, key or "eu"), meta=meta)  # noqa: B023

        for key in keys:
            assert put(key, [1, 2], f"old-{key}", {}).success
        before = _stored(case, tmp, kind, name, partitioned)
        for meta in (_APPEND, _MERGE):
            _killed(case, tmp, name, meta, keys[-1])
            assert _stored(case, tmp, kind, name, partitioned) == before, (case.name, name, meta)
        assert put(keys[-1], [2, 8], "new", _MERGE).success
        merged = {(i, v, k) for i, v, k in before if not (i == 2 and k == (keys[-1] or "eu"))}
        want = sorted({*merged, (2, "new", keys[-1] or "eu"), (8, "new", keys[-1] or "eu")})
        got = _stored(case, tmp, kind, name, partitioned)
        assert got == want, (case.name, name, got, want)
