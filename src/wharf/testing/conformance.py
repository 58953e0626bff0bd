"""The conformance suite: one set of checks, run against every store and every frame type.

Each check materializes real assets through :func:`wharf.materialize` with the store's I/O
manager, exactly as a user would, and asserts what comes back. A store is a :class:`StoreCase`
row; a frame type is a :class:`~wharf.testing.frames.FrameKind` row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wharf as dg
from wharf.errors import AssetTypeError, StorageError, StoredValueNotFoundError
from wharf.testing import partition_checks as pc
from wharf.testing.frames import FRAME_KINDS, FrameKind
from wharf.testing.kill_checks import check_killed_overwrite, check_write_modes_killed

__all__ = ["CHECKS", "FRAME_KINDS", "Check", "FrameKind", "StoreCase"]


@dataclass(frozen=True)
class StoreCase:
    """One store under test.

    Attributes:
        name: shown in test ids, e.g. ``"duckdb"``.
        io_manager: builds the I/O manager given a fresh folder (servers come from the caller).
        capabilities: what the store supports, and its traits: ``lists_never_null`` (a known
            gap, see ``KNOWN_GAPS``),
            ``microsecond_timestamps`` (a nanosecond value is refused, not kept).
        tables_only: the store refuses values that are not tables (no pickle fallback).
        fixture: the pytest fixture that provides the store's server, if it needs one;
            ``io_manager`` is then called as ``io_manager(folder, server=<fixture value>)``.
        server: returns the store's (shared) test server, for a store without a ``fixture``
            (the suite starts it) and outside pytest (the fidelity table).
        nul_in_text: strings may hold NUL (U+0000); False for stores whose text type cannot
            (PostgreSQL), whose property checks then generate strings without it.
        floats: which floats the store keeps (``Dialect.floats``): ``"ieee"`` all, ``"no_nan"``
            (SQLite), ``"finite"`` (MySQL); it refuses the others, and its property checks
            generate only these (the fidelity table shows the refusal).
        lacks: a capability the store does not have -> the exception the checks that need it
            raise against the store; those checks run as strict xfails expecting it (never a
            silent drop). A check needing a capability neither had nor listed here is an error.
    """

    name: str
    io_manager: Callable[..., Any]
    capabilities: frozenset[str] = frozenset({"projection", "crash_atomic"})
    tables_only: bool = True
    fixture: str | None = None
    server: Callable[[], Any] | None = None
    nul_in_text: bool = True
    floats: str = "ieee"
    lacks: Mapping[str, type[BaseException]] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """One check of the suite.

    Attributes:
        per_kind: run once per frame type (written as it); else once, given the
            :data:`~wharf.testing.frames.REFERENCE_KIND` (most such checks write pandas).
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
    pd.testing.assert_frame_equal(_load(case, tmp, pd.DataFrame), df, check_exact=True)


def _load(case: StoreCase, tmp: Path, annotation: Any, name: str = "t") -> Any:
    """The stored value of asset ``name``, loaded as ``annotation`` by a downstream asset."""
    sink: list[Any] = []

    def consume(t):  # type: ignore[no-untyped-def]
        sink.append(t)

    consume.__annotations__ = {"t": annotation, "return": None}
    resources = {"io_manager": case.io_manager(tmp)}
    consumer = dg.asset(name=f"load_{name}", ins={"t": dg.AssetIn(key=name)})(consume)
    assets = [_producer(lambda: None, name), consumer]
    dg.materialize(assets, resources=resources, selection=[consumer.key])
    return sink[0]


def _same(value: Any) -> Any:
    return value


def _same_frame(case: StoreCase, tmp: Path, frames: dict[str, Any]) -> None:
    """Each pandas frame of ``frames`` comes back exactly (index, labels, dtypes, freq)."""
    import pandas as pd

    for i, (label, df) in enumerate(frames.items()):
        name = f"t{i}"
        assert _write(case, tmp, functools.partial(_same, df), name=name).success, (
            case.name,
            label,
        )
        got = _load(case, tmp, pd.DataFrame, name=name)
        try:
            pd.testing.assert_frame_equal(got, df, check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{case.name}: {label}: {exc}") from None


def check_pandas_index(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """A pandas index survives: a DatetimeIndex (with its freq), an unnamed integer index, a
    named index, a MultiIndex, a RangeIndex not starting at 0. Loaded as pyarrow (or polars),
    the index is ordinary columns, named as pandas names them; a RangeIndex stays implicit."""
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    v = {"v": [1.5, 2.5, 3.5]}
    _same_frame(
        case,
        tmp,
        {
            "DatetimeIndex": pd.DataFrame(v, index=pd.date_range("2024-01-01", periods=3)),
            "DatetimeIndex UTC": pd.DataFrame(
                v, index=pd.DatetimeIndex(["2024-01-03", "2024-01-01", "2024-02-01"], tz="UTC")
            ),
            "integer index": pd.DataFrame(v, index=[30, 10, 20]),
            "named index": pd.DataFrame(v, index=pd.Index(["x", "y", "z"], name="key")),
            "MultiIndex": pd.DataFrame(
                v,
                index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)], names=["k", None]),
            ),
            "RangeIndex(5, 11, 2)": pd.DataFrame(v, index=pd.RangeIndex(5, 11, 2)),
        },
    )
    indexed = pd.DataFrame(v, index=pd.Index([30, 10, 20]))
    assert _write(case, tmp, lambda: indexed).success
    as_arrow = _load(case, tmp, pa.Table)
    assert as_arrow.column_names == ["v", "__index_level_0__"], case.name
    assert as_arrow.column("__index_level_0__").to_pylist() == [30, 10, 20]
    as_polars = _load(case, tmp, pl.DataFrame)
    assert as_polars.columns == ["v", "__index_level_0__"], case.name
    assert as_polars["__index_level_0__"].to_list() == [30, 10, 20]
    assert _write(case, tmp, lambda: pd.DataFrame(v)).success
    assert _load(case, tmp, pa.Table).column_names == ["v"], case.name


def check_pandas_column_labels(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """MultiIndex columns and integer column labels come back as they were; labels Arrow cannot
    give back (mixed types) come back too (memory) or are refused, naming the asset and the I/O
    manager, and the stored value stays."""
    import pandas as pd

    pairs = [("a", "x"), ("a", "y"), ("b", "x")]
    _same_frame(
        case,
        tmp,
        {
            "MultiIndex columns": pd.DataFrame(
                [[1, 2, 3]], columns=pd.MultiIndex.from_tuples(pairs, names=["top", "sub"])
            ),
            "integer column labels": pd.DataFrame([[1, 2], [3, 4]]),
            "integer labels, not from 0": pd.DataFrame([[1.0, 2.0]], columns=[7, 3]),
        },
    )
    before, mixed = pd.DataFrame({"a": [1]}), pd.DataFrame([[1, 2]], columns=["a", 1])
    assert _write(case, tmp, lambda: before).success
    result = _write(case, tmp, lambda: mixed)
    if result.success:  # a store of Python objects (memory) keeps any label
        pd.testing.assert_frame_equal(_load(case, tmp, pd.DataFrame), mixed)
        return
    err = next(iter(result.failures.values()))
    assert isinstance(err, AssetTypeError), (case.name, err)
    assert "'t'" in str(err), str(err)
    assert type(case.io_manager(tmp)).__name__ in str(err), str(err)
    assert "column label" in str(err)
    pd.testing.assert_frame_equal(_load(case, tmp, pd.DataFrame), before)


def check_pandas_zero_columns(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """A pandas frame of no columns keeps its rows (its index), with or without rows."""
    import pandas as pd

    _same_frame(
        case,
        tmp,
        {
            "0 columns, 3 rows": pd.DataFrame(index=range(3)),
            "0 columns, 0 rows": pd.DataFrame(),
            "0 columns, DatetimeIndex": pd.DataFrame(index=pd.date_range("2024-01-01", periods=2)),
        },
    )


def check_nanoseconds(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """Nanosecond timestamps are kept, or (``microsecond_timestamps`` stores) a value with
    nanoseconds is refused, naming the asset and the I/O manager, and the stored value stays.
    A nanosecond column of whole microseconds comes back exactly everywhere."""
    import pandas as pd

    whole = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 00:00:00.000001"]).as_unit("ns")})
    _same_frame(case, tmp, {"datetime64[ns], whole microseconds": whole})
    fine = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 00:00:00.000000001"]).as_unit("ns")})
    if "microsecond_timestamps" not in case.capabilities:
        _same_frame(case, tmp, {"datetime64[ns] with nanoseconds": fine})
        return
    before = pd.DataFrame({"t": pd.to_datetime(["2023-05-05"]).as_unit("ns")})
    assert _write(case, tmp, lambda: before).success
    result = _write(case, tmp, lambda: fine)
    err = next(iter(result.failures.values()), None)
    assert isinstance(err, StorageError), (case.name, err)
    text = str(err)
    assert "'t'" in text, text
    assert type(case.io_manager(tmp)).__name__ in text, text
    assert "nanosecond" in text, text
    pd.testing.assert_frame_equal(_load(case, tmp, pd.DataFrame), before, check_exact=True)


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


def check_interrupt(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """Ctrl-C in the middle of a value's stream stops the run (``KeyboardInterrupt`` is not
    an asset failure) on every store, and the previous value stays readable."""
    import pyarrow as pa
    import pytest

    assert _write(case, tmp, lambda: base_table(5)).success
    schema = base_table(0).schema

    def interrupted() -> Iterator[Any]:
        yield from base_table(4).to_batches(max_chunksize=2)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _write(case, tmp, lambda: pa.RecordBatchReader.from_batches(schema, interrupted()))
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


def check_write_modes(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """``write_mode`` append adds rows, merge upserts by ``merge_keys``; a repeated merge key
    and a raising source fail the write and leave the table as it was. A merge replaces every
    stored row with a new row's key: a key stored twice (appended) ends as one row."""
    import pyarrow as pa

    def table(ids: list[int], v: str) -> Any:
        return pa.table({"id": pa.array(ids, pa.int64()), "v": pa.array([v] * len(ids))})

    def put(value: Callable[[], Any], meta: dict[str, Any]) -> Any:
        resources = {"io_manager": case.io_manager(tmp)}
        asset = dg.asset(name="t", metadata=meta)(value)
        return dg.materialize([asset], resources=resources, raise_on_error=False)

    def stored() -> list[tuple[Any, ...]]:
        got = _read(case, tmp, kind)
        return sorted(zip(got.column("id").to_pylist(), got.column("v").to_pylist(), strict=True))

    merge = {"write_mode": "merge", "merge_keys": ["id"]}
    assert put(lambda: table([1, 2], "a"), {}).success
    assert put(lambda: table([3], "b"), {"write_mode": "append"}).success
    assert stored() == [(1, "a"), (2, "a"), (3, "b")]
    assert put(lambda: table([2, 4], "c"), merge).success
    assert stored() == [(1, "a"), (2, "c"), (3, "b"), (4, "c")]
    result = put(lambda: table([5, 5], "d"), merge)
    assert "merge key id=5 appears 2 times" in str(next(iter(result.failures.values())))

    def failing() -> Iterator[Any]:
        yield from table([1, 9], "z").to_batches()
        raise RuntimeError("source died mid-stream")

    schema = table([], "z").schema
    for meta in ({"write_mode": "append"}, merge):
        source = functools.partial(pa.RecordBatchReader.from_batches, schema, failing())
        assert not put(source, meta).success
    assert stored() == [(1, "a"), (2, "c"), (3, "b"), (4, "c")]
    assert put(lambda: table([3], "twice"), {"write_mode": "append"}).success
    assert put(lambda: table([3], "m"), merge).success  # both stored rows of key 3 replaced
    assert stored() == [(1, "a"), (2, "c"), (3, "m"), (4, "c")]


def _put(case: StoreCase, tmp: Path, value: Callable[..., Any], meta: dict[str, Any],
         *, partitions: Any = None, key: str | None = None) -> Any:  # fmt: skip
    """Materialize asset ``t`` (``metadata=meta``; partition ``key`` of ``partitions``)."""
    resources = {"io_manager": case.io_manager(tmp)}
    asset = dg.asset(name="t", metadata=meta, partitions_def=partitions)(value)
    return dg.materialize([asset], resources=resources, raise_on_error=False, partition_key=key)


def _id_v(case: StoreCase, tmp: Path, kind: FrameKind, *extra: str) -> list[tuple[Any, ...]]:
    got = _read(case, tmp, kind)
    columns = [got.column(c).to_pylist() for c in ("id", "v", *extra)]
    return sorted(zip(*columns, strict=True))


def _table(columns: Mapping[str, Any]) -> Any:
    import pyarrow as pa

    return pa.table(columns)


def check_write_modes_schema_change(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """An append or merge whose columns differ from the table's (one added, one gone) fails
    naming the difference and leaves the table as it was; the same columns in another order
    are matched by name."""
    import pyarrow as pa

    merge = {"write_mode": "merge", "merge_keys": ["id"]}
    assert _put(case, tmp, lambda: pa.table({"id": [1, 2], "v": ["a", "a"]}), {}).success
    for meta in ({"write_mode": "append"}, merge):
        for changed in ({"id": [3], "v": ["b"], "w": ["new"]}, {"id": [3]}):
            result = _put(case, tmp, functools.partial(_table, changed), meta)
            assert not result.success, (case.name, meta, changed)
            text = _chain_text(next(iter(result.failures.values())))
            assert "'w'" in text or "'v'" in text, text
    assert _id_v(case, tmp, kind) == [(1, "a"), (2, "a")]
    added = functools.partial(_table, {"v": ["b"], "id": [3]})
    assert _put(case, tmp, added, {"write_mode": "append"}).success
    assert _put(
        case, tmp, functools.partial(_table, {"v": ["c", "d"], "id": [1, 4]}), merge
    ).success
    assert _id_v(case, tmp, kind) == [(1, "c"), (2, "a"), (3, "b"), (4, "d")]


def check_write_modes_partitioned(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """In a partitioned asset, an append adds rows to its partition and a merge upserts by key
    inside it only (the same key in another partition is another row); a row outside the
    partition, a repeated key or a raising source fails the write and changes nothing."""
    import pyarrow as pa

    parts = dg.StaticPartitionsDefinition(["eu", "us"])

    def rows(ids: list[int], v: str, region: str) -> Any:
        n = len(ids)
        return pa.table({"id": pa.array(ids, pa.int64()), "v": [v] * n, "k": [region] * n})

    def put(key: str, ids: list[int], v: str, meta: dict[str, Any], region: str = "") -> Any:
        value = functools.partial(rows, ids, v, region or key)
        return _put(case, tmp, value, {"partition_expr": "k", **meta}, partitions=parts, key=key)

    append, merge = {"write_mode": "append"}, {"write_mode": "merge", "merge_keys": ["id"]}
    assert put("eu", [1, 2], "a", {}).success
    assert put("us", [1], "u", {}).success
    assert put("eu", [3], "b", append).success
    assert put("eu", [2, 4], "c", merge).success
    every = [(1, "a", "eu"), (1, "u", "us"), (2, "c", "eu"), (3, "b", "eu"), (4, "c", "eu")]
    assert _id_v(case, tmp, kind, "k") == every
    assert not put("eu", [9], "x", append, region="us").success  # a row of another partition
    assert not put("us", [9], "x", merge, region="eu").success
    assert not put("us", [5, 5], "x", merge).success  # a repeated merge key

    def failing(meta: dict[str, Any]) -> Any:
        def broken() -> Iterator[Any]:
            yield from rows([1, 7], "z", "us").to_batches()
            raise RuntimeError("source died mid-stream")

        def value() -> Any:
            return pa.RecordBatchReader.from_batches(rows([], "z", "us").schema, broken())

        meta = {"partition_expr": "k", **meta}
        return _put(case, tmp, value, meta, partitions=parts, key="us")

    assert not failing(append).success
    assert not failing(merge).success
    assert _id_v(case, tmp, kind, "k") == every
    assert put("us", [2], "m", merge).success  # eu's row of key 2 is another partition's
    assert _id_v(case, tmp, kind, "k") == sorted([*every, (2, "m", "us")])


def check_versions(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """A store that keeps history (``versions``) lists every write, newest first, with the run
    that made it, and ``load_asset_value(version=)`` reads an earlier one by number, by ``-N``,
    by run id and by time; any other store refuses, naming the asset and the I/O manager. A
    store that keeps versions when asked (``keep_versions``: the file and object-store
    managers) refuses by default and, given ``keep_versions=3``, keeps the last 3."""
    import pytest

    if "versions" in case.capabilities:
        _check_history(case, tmp)
        return
    resources = {"io_manager": case.io_manager(tmp)}
    defs = dg.Definitions(assets=[_producer(lambda: None)], resources=resources)
    assert all(_write(case, tmp, functools.partial(base_table, n)).success for n in (3, 5))
    for ask in (defs.get_asset_versions, functools.partial(defs.load_asset_value, version=-1)):
        with pytest.raises(StoredValueNotFoundError) as info:
            ask("t")
        assert "'t'" in str(info.value), str(info.value)
        assert type(case.io_manager(tmp)).__name__ in str(info.value), str(info.value)
        assert "keeps no earlier versions" in str(info.value)
    if "keep_versions" not in case.capabilities:
        return

    def keeping(folder: Path, **kw: Any) -> Any:  # the row's manager, keeping 3 versions
        return case.io_manager(folder, **kw).model_copy(update={"keep_versions": 3})

    kept = dataclasses.replace(case, io_manager=keeping)
    assert _rows_of(_defs(kept, tmp), None) == 5  # the value stored before keep_versions
    versions = _check_history(kept, tmp)
    assert _write(kept, tmp, functools.partial(base_table, 4)).success  # the oldest is pruned
    now = _defs(kept, tmp).get_asset_versions("t")
    assert [v.version for v in now] == [now[0].version] + [v.version for v in versions[:2]]
    with pytest.raises(StoredValueNotFoundError, match=r"'t'.*keeps no version"):
        _rows_of(_defs(kept, tmp), versions[2].version)
    with pytest.raises(StoredValueNotFoundError, match="'t'"):  # not at Dagster's path now
        _rows_of(_defs(case, tmp), None)


def _defs(case: StoreCase, tmp: Path) -> dg.Definitions:
    resources = {"io_manager": case.io_manager(tmp)}
    return dg.Definitions(assets=[_producer(lambda: None)], resources=resources)


def _check_history(case: StoreCase, tmp: Path) -> list[Any]:
    """Three writes, then each way of naming one of them loads it; returns the versions."""
    import pytest

    defs = _defs(case, tmp)
    runs = [_write(case, tmp, functools.partial(base_table, n)) for n in (3, 5, 2)]
    assert all(r.success for r in runs), case.name
    versions = defs.get_asset_versions("t")
    assert [v.run_id for v in versions[:3]] == [r.run_id for r in reversed(runs)], versions
    rows = functools.partial(_rows_of, defs)
    assert rows(None) == rows(versions[0].version) == 2
    assert rows(-1) == rows(runs[1].run_id) == 5
    assert rows(-2) == rows(runs[0].run_id) == rows(versions[2].version) == 3
    assert rows(versions[1].timestamp) == 5
    with pytest.raises(StoredValueNotFoundError, match=r"'t'.*keeps no version -9"):
        rows(-9)
    with pytest.raises(StoredValueNotFoundError, match="written by run 'nope'"):
        rows("nope")
    _partition_versions(case, tmp)
    return versions


def _partition_versions(case: StoreCase, tmp: Path) -> None:
    """A partition loads as it was at an earlier version, alone and with the others."""
    import pyarrow as pa
    import pytest

    parts = dg.StaticPartitionsDefinition(["a", "b"])
    value = {"v": 1}

    @dg.asset(name="p", partitions_def=parts, metadata={"partition_expr": "k"})
    def produce(context: dg.AssetExecutionContext) -> pa.Table:
        return pa.table({"k": [context.partition_key], "v": [value["v"]]})

    defs = dg.Definitions(assets=[produce], resources={"io_manager": case.io_manager(tmp)})
    for key in ("a", "b"):
        assert defs.materialize(partition_key=key).success
    value["v"] = 2
    assert defs.materialize(partition_key="a").success

    def v(version: Any, **kw: Any) -> list[Any]:
        got = defs.load_asset_value("p", python_type=pa.Table, version=version, **kw)
        return sorted(zip(got.column("k").to_pylist(), got.column("v").to_pylist(), strict=True))

    assert v(None, partition_key="a") == [("a", 2)]
    assert v(-1, partition_key="a") == [("a", 1)]
    assert v(-1) == [("a", 1), ("b", 1)]
    assert v(-2, partition_key="a") == [("a", 1)]
    with pytest.raises(StoredValueNotFoundError, match=r"partition\(s\) \['b'\]"):
        v(-2)  # b was not stored yet then


def _rows_of(defs: dg.Definitions, version: Any) -> int:
    import pyarrow as pa

    value = defs.load_asset_value("t", python_type=pa.Table, version=version)
    return int(value.num_rows)


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
    Check("pandas_index", check_pandas_index, per_kind=False),
    Check("pandas_column_labels", check_pandas_column_labels, per_kind=False),
    Check("pandas_zero_columns", check_pandas_zero_columns, per_kind=False),
    Check("nanoseconds", check_nanoseconds, per_kind=False),
    Check("projection", check_projection, needs=frozenset({"projection"})),
    Check("schema_change", check_schema_change),
    Check("column_order", check_column_order),
    Check(
        "crash_atomicity", check_crash_atomicity, per_kind=False, needs=frozenset({"crash_atomic"})
    ),
    Check("interrupt", check_interrupt, per_kind=False, needs=frozenset({"crash_atomic"})),
    Check(
        "killed_writer", check_killed_overwrite, per_kind=False, needs=frozenset({"crash_atomic"})
    ),
    Check("errors", check_errors, per_kind=False),
    Check("write_modes", check_write_modes, per_kind=False, needs=frozenset({"write_modes"})),
    Check(
        "write_modes_schema_change",
        check_write_modes_schema_change,
        per_kind=False,
        needs=frozenset({"write_modes"}),
    ),
    Check(
        "write_modes_partitioned",
        check_write_modes_partitioned,
        per_kind=False,
        needs=frozenset({"write_modes"}),
    ),
    Check("versions", check_versions, per_kind=False),
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
    Check("partitions_pandas_index", pc.check_pandas_index, per_kind=False),
    Check("partitions_quoted_expr", pc.check_quoted_partition_expr, per_kind=False),
    Check(
        "write_modes_killed",
        check_write_modes_killed,
        per_kind=False,
        needs=frozenset({"write_modes", "crash_atomic"}),
    ),
)
