"""The conformance suite: one set of checks, run against every store and every frame type.

Each check materializes real assets through :func:`wharf.materialize` with the store's I/O
manager, exactly as a user would, and asserts what comes back. A store is a :class:`StoreCase`
row; a frame type is a :class:`~wharf.testing.frames.FrameKind` row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wharf as dg
from wharf.errors import AssetTypeError, StoredValueNotFoundError
from wharf.testing import partition_checks as pc
from wharf.testing.frames import FRAME_KINDS, FrameKind

__all__ = ["CHECKS", "FRAME_KINDS", "Check", "FrameKind", "StoreCase"]


@dataclass(frozen=True)
class StoreCase:
    """One store under test.

    Attributes:
        name: shown in test ids, e.g. ``"duckdb"``.
        io_manager: builds the I/O manager given a fresh folder (servers come from the caller).
        capabilities: what the store supports; a check that needs a missing one is skipped.
        tables_only: the store refuses values that are not tables (no pickle fallback).
        fixture: the pytest fixture that provides the store's server, if it needs one;
            ``io_manager`` is then called as ``io_manager(folder, server=<fixture value>)``.
        nul_in_text: strings may hold NUL (U+0000); False for stores whose text type cannot
            (PostgreSQL), whose property checks then generate strings without it.
    """

    name: str
    io_manager: Callable[..., Any]
    capabilities: frozenset[str] = frozenset({"projection", "crash_atomic"})
    tables_only: bool = True
    fixture: str | None = None
    nul_in_text: bool = True


@dataclass(frozen=True)
class Check:
    """One check of the suite.

    Attributes:
        per_kind: run once per frame type (written as it); else once, written as pandas.
        needs: the store capabilities it needs.
        reads_every_kind: it reads the value back as every frame type, so it needs every
            kind's fixture (the SparkSession), not only its own.
    """

    name: str
    run: Callable[[StoreCase, FrameKind, Path], None]
    per_kind: bool = True
    needs: frozenset[str] = field(default_factory=frozenset)
    reads_every_kind: bool = False


def base_table(rows: int = 5) -> Any:
    """A small table with ints, floats with nulls, unicode strings and tz-aware timestamps."""
    import pyarrow as pa

    utc = dt.UTC
    return pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "name": pa.array([None if i == 1 else f"näme-{i}-✓" for i in range(rows)], pa.string()),
            "amount": pa.array([None if i == 2 else i * 1.5 for i in range(rows)], pa.float64()),
            "ts": pa.array(
                [dt.datetime(2024, 1, 1 + i, 12, tzinfo=utc) for i in range(rows)],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )


def _rows(table: Any) -> dict[str, list[Any]]:
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _producer(value: Callable[[], Any], name: str = "t") -> dg.AssetsDefinition:
    def produce():  # type: ignore[no-untyped-def]
        return value()

    return dg.asset(name=name)(produce)


def _consumer(
    kind: FrameKind, sink: list[Any], *, name: str = "t", columns: list[str] | None = None
) -> dg.AssetsDefinition:
    def consume(t):  # type: ignore[no-untyped-def]
        sink.append(kind.to_table(t))

    consume.__annotations__ = {"t": kind.annotation(), "return": None}
    ins = {"t": dg.AssetIn(key=name, metadata={"columns": columns} if columns else None)}
    return dg.asset(name=f"read_{name}_as_{kind.name.replace('-', '_')}", ins=ins)(consume)


def _write(case: StoreCase, tmp: Path, value: Callable[[], Any], name: str = "t") -> Any:
    resources = {"io_manager": case.io_manager(tmp)}
    return dg.materialize([_producer(value, name)], resources=resources, raise_on_error=False)


def _read(case: StoreCase, tmp: Path, kind: FrameKind, name: str = "t", **kw: Any) -> Any:
    sink: list[Any] = []
    resources = {"io_manager": case.io_manager(tmp)}
    producer = _producer(lambda: None, name)
    consumer = _consumer(kind, sink, name=name, **kw)
    dg.materialize([producer, consumer], resources=resources, selection=[consumer.key])
    return sink[0]


# -- the checks ----------------------------------------------------------------------------
def check_round_trip(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """Written as ``kind``, read back as every frame type, rows and columns equal."""
    expected = base_table()
    assert _write(case, tmp, lambda: kind.make(base_table())).success
    for reader in FRAME_KINDS:
        got = _read(case, tmp, reader)
        assert got.column_names == expected.column_names, (kind.name, reader.name)
        assert _rows(got) == _rows(expected), (kind.name, reader.name)


def check_overwrite(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """A second write replaces the first completely."""
    assert _write(case, tmp, lambda: kind.make(base_table(5))).success
    assert _write(case, tmp, lambda: kind.make(base_table(2))).success
    assert _read(case, tmp, kind).num_rows == 2


def check_empty(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """An empty frame stores an empty table that keeps its columns."""
    assert _write(case, tmp, lambda: kind.make(base_table(0))).success
    got = _read(case, tmp, kind)
    assert got.num_rows == 0
    assert got.column_names == ["id", "name", "amount", "ts"]


def check_empty_categories(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """A categorical column of a frame with no rows keeps its declared categories and order."""
    import pandas as pd

    labels = pd.Index(["b", "a", "日本"], dtype="str")
    df = pd.DataFrame({"c": pd.Categorical([], categories=labels, ordered=True)})
    assert _write(case, tmp, lambda: df).success
    sink: list[Any] = []

    def consume(t):  # type: ignore[no-untyped-def]
        sink.append(t)

    consume.__annotations__ = {"t": pd.DataFrame, "return": None}
    resources = {"io_manager": case.io_manager(tmp)}
    assets = [_producer(lambda: None), dg.asset(ins={"t": dg.AssetIn(key="t")})(consume)]
    dg.materialize(assets, resources=resources, selection=[assets[1].key])
    pd.testing.assert_frame_equal(sink[0], df, check_exact=True)


def check_projection(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """``AssetIn(metadata={"columns": [...]})`` loads only those columns."""
    assert _write(case, tmp, lambda: kind.make(base_table())).success
    got = _read(case, tmp, kind, columns=["amount", "id"])
    assert got.column_names == ["amount", "id"]
    assert _rows(got) == _rows(base_table().select(["amount", "id"]))


def check_schema_change(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """A whole-table write with new columns replaces the table: new columns appear."""
    assert _write(case, tmp, lambda: kind.make(base_table())).success
    changed = base_table().drop_columns(["name"]).append_column("extra", _strings(5))
    assert _write(case, tmp, lambda: kind.make(changed)).success
    assert _read(case, tmp, kind).column_names == ["id", "amount", "ts", "extra"]


def check_column_order(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """Columns are matched by name: writing ``{b, a}`` after ``{a, b}`` swaps nothing."""
    import pyarrow as pa

    assert _write(case, tmp, lambda: kind.make(pa.table({"a": [1, 2], "b": [10, 20]}))).success
    assert _write(case, tmp, lambda: kind.make(pa.table({"b": [30, 40], "a": [3, 4]}))).success
    assert _rows(_read(case, tmp, kind)) == {"b": [30, 40], "a": [3, 4]}


def check_crash_atomicity(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """A writer whose data stream raises mid-way fails, and the previous value stays readable."""
    import pyarrow as pa

    assert _write(case, tmp, lambda: base_table(5)).success
    schema = base_table(0).schema

    def failing() -> Iterator[Any]:
        yield from base_table(4).to_batches(max_chunksize=2)
        raise RuntimeError("source died mid-stream")

    result = _write(case, tmp, lambda: pa.RecordBatchReader.from_batches(schema, failing()))
    assert not result.success
    assert "source died mid-stream" in _chain_text(next(iter(result.failures.values())))
    assert _rows(_read(case, tmp, kind)) == _rows(base_table(5))


def check_errors(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """Loading a never-stored asset, and storing a non-table, fail with messages naming both."""
    import pytest

    manager = case.io_manager(tmp)
    with pytest.raises(StoredValueNotFoundError, match="never_stored"):
        _read(case, tmp, kind, name="never_stored")
    if case.tables_only:
        result = _write(case, tmp, lambda: {"not": "a table"}, name="bad")
        err = next(iter(result.failures.values()))
        assert isinstance(err, AssetTypeError)
        assert "bad" in str(err)
        assert type(manager).__name__ in str(err)
        assert "pandas.DataFrame" in str(err)


def _strings(n: int) -> Any:
    import pyarrow as pa

    return pa.array([f"x{i}" for i in range(n)])


def _chain_text(err: Any) -> str:
    parts = []
    while err is not None:
        parts.append(str(err))
        err = err.__cause__ or err.__context__
    return " | ".join(parts)


CHECKS: tuple[Check, ...] = (
    Check("round_trip", check_round_trip, reads_every_kind=True),
    Check("overwrite", check_overwrite),
    Check("empty", check_empty),
    Check("empty_categories", check_empty_categories, per_kind=False),
    Check("projection", check_projection, needs=frozenset({"projection"})),
    Check("schema_change", check_schema_change),
    Check("column_order", check_column_order),
    Check(
        "crash_atomicity", check_crash_atomicity, per_kind=False, needs=frozenset({"crash_atomic"})
    ),
    Check("errors", check_errors, per_kind=False),
    # partitions (wharf.testing.partition_checks)
    Check("partitions_write_overwrite", pc.check_write_and_overwrite),
    Check("partitions_load_all", pc.check_load_all),
    Check("partitions_load_dict", pc.check_load_dict, per_kind=False),
    Check("partitions_time_window", pc.check_time_window, per_kind=False),
    Check("partitions_multi", pc.check_multi),
    Check("partitions_missing", pc.check_missing, per_kind=False),
    Check("partitions_schema_change", pc.check_schema_change, per_kind=False),
    Check(
        "partitions_crash_atomicity",
        pc.check_crash_atomicity,
        per_kind=False,
        needs=frozenset({"crash_atomic"}),
    ),
    Check(
        "partitions_rows_outside",
        pc.check_rows_outside,
        per_kind=False,
        needs=frozenset({"crash_atomic"}),
    ),
    Check("partitions_dynamic_keys", pc.check_dynamic_keys, per_kind=False),
)
