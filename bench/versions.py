"""Versions (issue 16): the table-format stores against their libraries, and skip-unchanged runs.

1. Delta Lake: ``wharf.deltalake.DeltaLakeIOManager`` store and load of a 10-column frame
   (``handle_output`` / ``load_input``) against ``deltalake.write_deltalake(mode="overwrite")``
   and ``DeltaTable(uri).to_pyarrow_table()`` (plus ``to_pandas()`` for pandas) directly.
2. Iceberg: ``wharf.iceberg.IcebergIOManager`` (SQL catalog on SQLite, local warehouse) against
   pyiceberg directly on the same kind of catalog: ``table.overwrite(arrow)`` and
   ``table.scan().to_arrow()``. Target for both: within 1.15x.
3. The fingerprint (the data version computed while storing): DuckDB and Parquet-file stores
   of the same frame without and with it; target under 5% (1.05x), the issue asks at 1e7 rows
   (``--rows 10000000``).
4. ``materialize(..., skip_unchanged=True)`` of a 1,000-asset chain where nothing changed (every
   step reported unchanged, none run): target under 0.2 s. The full run before it is printed
   beside it.

Dagster: its I/O managers overwrite in place and keep no earlier versions
(``load_asset_value`` has no ``version``), and it does not skip unchanged assets (it marks them
stale in its UI); ``dagster-deltalake`` / ``dagster-iceberg`` are separate integrations, not in
the comparison venv. So there is no Dagster column here: the ratios are to the raw libraries.

    .venv/bin/python bench/versions.py [--rows 1000000] [--repeats 3] [--libs pandas,pyarrow]
        [--assets 1000]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

TARGET = 1.15
STALE_ONLY_TARGET_S = 0.2
FINGERPRINT_TARGET = 1.05


def _arrow(lib: str, frame: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False) if lib == "pandas" else frame


def _as(lib: str, table: Any) -> Any:
    return table.to_pandas() if lib == "pandas" else table


def delta_direct(root: str) -> Any:
    """deltalake's own overwrite and read, one table per library."""

    def ops(lib: str, frame: Any) -> h.Ops:
        from deltalake import DeltaTable, write_deltalake

        uri = f"{root}/direct_{lib}"

        def store() -> None:
            write_deltalake(uri, _arrow(lib, frame), mode="overwrite", schema_mode="overwrite")

        def load() -> Any:
            return _as(lib, DeltaTable(uri).to_pyarrow_table())

        return store, load

    return ops


def iceberg_direct(root: str) -> Any:
    """pyiceberg's own overwrite and scan on a SQL catalog of its own."""

    def ops(lib: str, frame: Any) -> h.Ops:
        from pyiceberg.catalog.sql import SqlCatalog

        folder = Path(root) / f"direct_{lib}"
        folder.mkdir(parents=True, exist_ok=True)
        catalog = SqlCatalog(
            "direct", uri=f"sqlite:///{folder}/catalog.db", warehouse=f"file://{folder}"
        )
        catalog.create_namespace_if_not_exists("public")
        data = _arrow(lib, frame)
        table = catalog.create_table_if_not_exists("public.t", schema=data.schema)

        def store() -> None:
            table.overwrite(_arrow(lib, frame))

        def load() -> Any:
            return _as(lib, table.scan().to_arrow())

        return store, load

    return ops


def fingerprint_cost(rows: int, repeats: int, root: str) -> int:
    """Seconds of storing a frame through DuckDB and Parquet files without and with the
    fingerprint (what a run asks for: ``FINGERPRINT`` set), and the ratio; 1 if over 1.05."""
    from duckdb_io import make_table

    import wharf as dg
    from wharf._core.versions import FINGERPRINT, Fingerprint
    from wharf.duckdb import DuckDBIOManager

    table, failures = make_table(rows), 0
    print(f"fingerprint while storing, {rows:,} rows x 10 columns (pyarrow)")
    print(f"{'store':11} {'without s':>9} {'with s':>9} {'ratio':>6}   {'':5} {'without':>7} "
          f"{'with':>7} {'ratio':>6}  target {FINGERPRINT_TARGET}x")  # fmt: skip
    for name, io in (
        ("duckdb", DuckDBIOManager(database=f"{root}/fp.duckdb", schema="public")),
        (
            "filesystem",
            dg.FilesystemIOManager(base_dir=f"{root}/fp_files").create_io_manager(
                dg.build_init_resource_context()
            ),
        ),
    ):
        ctx = dg.build_output_context(asset_key="t")

        def plain(io: Any = io, ctx: Any = ctx) -> None:
            io.handle_output(ctx, table)

        def hashed(io: Any = io, ctx: Any = ctx) -> None:
            fp = Fingerprint()
            token = FINGERPRINT.set(fp)
            try:
                io.handle_output(ctx, table)
            finally:
                FINGERPRINT.reset(token)
            assert fp.used, "the store computed no fingerprint"
            fp.hexdigest()

        plain(), hashed()  # warm up
        (without, with_fp), (cpu_without, cpu_with) = _wall_and_cpu(plain, hashed, repeats)
        ratio, cpu_ratio = with_fp / without, cpu_with / cpu_without
        failures += cpu_ratio > FINGERPRINT_TARGET
        flag = "" if cpu_ratio <= FINGERPRINT_TARGET else "  (over target)"
        print(f"{name:11} {without:9.3f} {with_fp:9.3f} {ratio:6.2f}   CPU s {cpu_without:7.3f} "
              f"{cpu_with:7.3f} {cpu_ratio:6.2f}{flag}")  # fmt: skip
    print("(the target is judged on CPU time, every thread of the process: wall time on a shared")
    print(" machine moves more than the hash costs)")
    return 1 if failures else 0


def _wall_and_cpu(a: Any, b: Any, repeats: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median wall and CPU seconds (process time, every thread) of ``a`` and ``b``, the runs
    alternating so that drift hits both alike."""
    import statistics

    wall: tuple[list[float], list[float]] = ([], [])
    cpu: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for i, fn in enumerate((a, b)):
            start, used = time.perf_counter(), time.process_time()
            fn()
            wall[i].append(time.perf_counter() - start)
            cpu[i].append(time.process_time() - used)
    med = statistics.median
    return (med(wall[0]), med(wall[1])), (med(cpu[0]), med(cpu[1]))


def stale_only(n: int) -> tuple[float, float]:
    """Seconds of a full run of an ``n``-asset chain, then of a skip-unchanged run of it."""
    import wharf as dg

    def chain() -> list[Any]:
        def root() -> int:
            return 1

        def body(up: int) -> int:
            return up + 1

        assets = [dg.asset(name="a0", code_version="1")(root)]
        for i in range(1, n):
            ins = {"up": dg.AssetIn(f"a{i - 1}")}
            assets.append(dg.asset(name=f"a{i}", ins=ins, code_version="1")(body))
        return assets

    io = dg.InMemoryIOManager()
    start = time.perf_counter()
    assert dg.materialize(chain(), resources={"io_manager": io}).success
    full = time.perf_counter() - start
    assets = chain()
    start = time.perf_counter()
    result = dg.materialize(assets, resources={"io_manager": io}, skip_unchanged=True)
    skipped = time.perf_counter() - start
    assert {o.status for o in result.outcomes} == {"unchanged"}, "something ran again"
    return full, skipped


def main(argv: list[str]) -> int:
    import os

    assets = 1000
    if "--assets" in argv:
        at = argv.index("--assets")
        assets, argv = int(argv[at + 1]), argv[:at] + argv[at + 2 :]
    args = h.store_load_args(argv, __doc__ or "")
    from wharf.deltalake import DeltaLakeIOManager
    from wharf.iceberg import IcebergIOManager

    failures = 0
    with tempfile.TemporaryDirectory() as root:
        os.environ["WHARF_HOME"] = f"{root}/home"
        io = DeltaLakeIOManager(root_uri=f"{root}/wharf_delta")
        failures += h.direct_vs_wharf(
            args, "Delta Lake: deltalake directly vs DeltaLakeIOManager", delta_direct(root), io,
            TARGET,
        )  # fmt: skip
        print()
        ice = IcebergIOManager(warehouse=f"{root}/wharf_iceberg")
        failures += h.direct_vs_wharf(
            args, "Iceberg: pyiceberg directly vs IcebergIOManager", iceberg_direct(root), ice,
            TARGET,
        )  # fmt: skip
        print()
        failures += fingerprint_cost(args.rows, args.repeats, root)
        print()
        full, skipped = stale_only(assets)
        flag = "" if skipped < STALE_ONLY_TARGET_S else "  (over target)"
        failures += skipped >= STALE_ONLY_TARGET_S
        print(f"{assets:,}-asset chain: full run {full:.3f} s; skip_unchanged run with nothing")
        print(f"changed {skipped:.3f} s (target < {STALE_ONLY_TARGET_S} s){flag}")
    return 1 if failures else 0


def run(quick: bool) -> int:
    """The run_all.py entry: 1e6 rows, 3 repeats and 1,000 assets (1e4, 1 and 100 quick)."""
    print("\nversions: Delta Lake / Iceberg stores vs their libraries, skip-unchanged runs")
    sizes = ["--rows", "10000", "--repeats", "1", "--assets", "100"] if quick else []
    return main(["versions.py", *sizes])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
