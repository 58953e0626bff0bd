"""The partition checks of the conformance suite (rows of ``CHECKS`` in :mod:`.conformance`).

Each check materializes partitioned assets through :func:`wharf.materialize` with the store's
I/O manager and reads them back through downstream assets, as a user would. The partitioned
table has a ``day`` column (the ``partition_expr`` a table store filters on) and a ``value``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import wharf as dg
from wharf.errors import AssetTypeError, StorageError, StoredValueNotFoundError
from wharf.testing.frames import FrameKind

Source = Callable[[str], Any]  # partition key -> pyarrow.Table
ALLOW = {"allow_missing_partitions": True}


def days() -> Any:
    return dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")


def day_rows(key: str, n: int = 2, *, start: int = 0, extra: bool = False) -> Any:
    """``n`` rows of partition ``key`` (a day, or ``<day>|<region>``)."""
    import pyarrow as pa

    day, _, region = key.partition("|")
    columns: dict[str, Any] = {
        "day": pa.array([dt.date.fromisoformat(day)] * n, pa.date32()),
        "value": pa.array([start + i for i in range(n)], pa.int64()),
    }
    if region:
        columns["region"] = pa.array([region] * n, pa.string())
    if extra:
        columns["extra"] = pa.array([f"x{i}" for i in range(n)], pa.string())
    return pa.table(columns)


def _expr(pdef: Any) -> Any:
    if isinstance(pdef, dg.MultiPartitionsDefinition):
        return {"date": "day", "region": "region"}
    return "day"


def _producer(kind: FrameKind, pdef: Any, source: Source) -> dg.AssetsDefinition:
    def events(context):  # type: ignore[no-untyped-def]
        return kind.make(source(context.partition_key))

    meta = {"partition_expr": _expr(pdef)}
    return dg.asset(name="events", partitions_def=pdef, metadata=meta)(events)


def write(  # noqa: PLR0917
    case: Any, tmp: Path, kind: FrameKind, pdef: Any, key: str, source: Source
) -> Any:
    """Materialize partition ``key`` of ``events``; the run's result (failures not raised)."""
    resources = {"io_manager": case.io_manager(tmp)}
    return dg.materialize(
        [_producer(kind, pdef, source)], resources=resources, partition_key=key,
        raise_on_error=False,
    )  # fmt: skip


def read(
    case: Any, tmp: Path, kind: FrameKind, pdef: Any, *, key: str | None = None,
    downstream: Any = None, mapping: Any = None, metadata: dict[str, Any] | None = None,
    annotation: Any = None,
) -> Any:  # fmt: skip
    """What a downstream asset (partitioned by ``downstream``, run for ``key``) loads."""
    sink: list[Any] = []

    def consume(events):  # type: ignore[no-untyped-def]
        sink.append(events)

    consume.__annotations__ = {"events": annotation or kind.annotation(), "return": None}
    ins = {"events": dg.AssetIn(metadata=metadata, partition_mapping=mapping)}
    consumer = dg.asset(name="consumer", partitions_def=downstream, ins=ins)(consume)
    resources = {"io_manager": case.io_manager(tmp)}
    producer = _producer(kind, pdef, lambda k: None)
    dg.materialize(
        [producer, consumer], resources=resources, selection=[consumer], partition_key=key
    )
    return sink[0] if annotation is not None else kind.to_table(sink[0])


def rows(table: Any) -> list[tuple[Any, ...]]:
    """The rows as sorted tuples, columns in name order (frame types may reorder nothing)."""
    names = sorted(table.column_names)
    return sorted(zip(*(table.column(n).to_pylist() for n in names), strict=True))


def _same(got: Any, *expected: Any) -> None:
    import pyarrow as pa

    want = pa.concat_tables(expected)
    assert rows(got) == rows(want), (rows(got), rows(want))


# -- the checks ----------------------------------------------------------------------------
def check_write_and_overwrite(case: Any, kind: FrameKind, tmp: Path) -> None:
    """Two partitions are stored apart; rewriting one replaces only its rows."""
    pdef = days()
    assert write(case, tmp, kind, pdef, "2024-01-01", lambda k: day_rows(k, 3)).success
    assert write(case, tmp, kind, pdef, "2024-01-02", lambda k: day_rows(k, 2)).success
    _same(read(case, tmp, kind, pdef, key="2024-01-01", downstream=pdef), day_rows("2024-01-01", 3))
    assert write(case, tmp, kind, pdef, "2024-01-01", lambda k: day_rows(k, 1, start=7)).success
    one = read(case, tmp, kind, pdef, key="2024-01-01", downstream=pdef)
    _same(one, day_rows("2024-01-01", 1, start=7))
    _same(read(case, tmp, kind, pdef, key="2024-01-02", downstream=pdef), day_rows("2024-01-02", 2))


def check_load_all(case: Any, kind: FrameKind, tmp: Path) -> None:
    """An unpartitioned asset annotated with a frame type loads every partition as one frame."""
    pdef = days()
    for n, key in enumerate(pdef.get_partition_keys(), start=1):
        assert write(case, tmp, kind, pdef, key, functools.partial(day_rows, n=n)).success
    expected = [day_rows(k, n) for n, k in enumerate(pdef.get_partition_keys(), start=1)]
    _same(read(case, tmp, kind, pdef), *expected)


def check_load_dict(case: Any, kind: FrameKind, tmp: Path) -> None:
    """``dict[str, frame]`` loads one frame per partition, keyed by partition key."""
    pdef = days()
    for key in ("2024-01-01", "2024-01-03"):
        assert write(case, tmp, kind, pdef, key, lambda k: day_rows(k, 2)).success
    mapping = dg.StaticPartitionMapping({"2024-01-01": "a", "2024-01-03": "a"})
    downstream = dg.StaticPartitionsDefinition(["a"])
    got = read(
        case, tmp, kind, pdef, key="a", downstream=downstream, mapping=mapping,
        annotation=dict[str, kind.annotation()],  # type: ignore[misc]
    )  # fmt: skip
    assert sorted(got) == ["2024-01-01", "2024-01-03"]
    for key, value in got.items():
        _same(kind.to_table(value), day_rows(key, 2))


def check_time_window(case: Any, kind: FrameKind, tmp: Path) -> None:
    """``TimeWindowPartitionMapping(start_offset=-1)`` loads the day before and the day."""
    pdef = days()
    for n, key in enumerate(pdef.get_partition_keys(), start=1):
        assert write(case, tmp, kind, pdef, key, functools.partial(day_rows, n=n)).success
    mapping = dg.TimeWindowPartitionMapping(start_offset=-1)
    got = read(case, tmp, kind, pdef, key="2024-01-03", downstream=pdef, mapping=mapping)
    _same(got, day_rows("2024-01-02", 2), day_rows("2024-01-03", 3))


def multi() -> Any:
    return dg.MultiPartitionsDefinition(
        {"date": days(), "region": dg.StaticPartitionsDefinition(["eu", "us"])}
    )


def check_multi(case: Any, kind: FrameKind, tmp: Path) -> None:
    """Two dimensions (one column each in tables): write, overwrite one key, load one and all."""
    pdef = multi()
    keys = ["2024-01-01|eu", "2024-01-01|us", "2024-01-02|eu"]
    for key in keys:
        assert write(case, tmp, kind, pdef, key, lambda k: day_rows(k, 2)).success
    assert write(case, tmp, kind, pdef, "2024-01-01|eu", lambda k: day_rows(k, 1, start=5)).success
    got = read(case, tmp, kind, pdef, key="2024-01-01|eu", downstream=pdef)
    _same(got, day_rows("2024-01-01|eu", 1, start=5))
    _same(
        read(case, tmp, kind, pdef, key="2024-01-01|us", downstream=pdef), day_rows("2024-01-01|us")
    )
    every = read(case, tmp, kind, pdef, metadata=ALLOW)
    _same(every, day_rows("2024-01-01|eu", 1, start=5), *(day_rows(k) for k in keys[1:]))


def check_missing(case: Any, kind: FrameKind, tmp: Path) -> None:
    """Partitions never stored are an error naming them, or skipped when allowed."""
    import pytest

    pdef = days()
    for key in ("2024-01-01", "2024-01-03"):
        assert write(case, tmp, kind, pdef, key, lambda k: day_rows(k, 2)).success
    with pytest.raises(StoredValueNotFoundError, match="2024-01-02") as info:
        read(case, tmp, kind, pdef)
    assert info.value.expected == "['2024-01-02']"
    with pytest.raises(StoredValueNotFoundError, match="2024-01-02"):
        read(case, tmp, kind, pdef, key="2024-01-02", downstream=pdef)
    got = read(case, tmp, kind, pdef, metadata=ALLOW)
    _same(got, day_rows("2024-01-01"), day_rows("2024-01-03"))


def check_schema_change(case: Any, kind: FrameKind, tmp: Path) -> None:
    """A partition written with a new column: a table store (``tables_only``) refuses it and
    shows the column; a path or memory store keeps it, and loading all unifies the columns."""
    pdef = days()
    for key in ("2024-01-01", "2024-01-02"):
        assert write(case, tmp, kind, pdef, key, lambda k: day_rows(k, 2)).success
    result = write(case, tmp, kind, pdef, "2024-01-02", lambda k: day_rows(k, 3, extra=True))
    if case.tables_only:
        assert not result.success
        err = next(iter(result.failures.values()))
        assert isinstance(err, StorageError)
        assert "extra" in str(err)
        _same(
            read(case, tmp, kind, pdef, metadata=ALLOW),
            day_rows("2024-01-01"),
            day_rows("2024-01-02"),
        )
        return
    assert result.success
    new = read(case, tmp, kind, pdef, key="2024-01-02", downstream=pdef)
    assert "extra" in new.column_names
    every = read(case, tmp, kind, pdef, metadata=ALLOW)
    assert sorted(every.column_names) == ["day", "extra", "value"]
    assert every.num_rows == 5
    assert every.column("extra").null_count == 2


def check_crash_atomicity(case: Any, kind: FrameKind, tmp: Path) -> None:
    """A partition write whose stream fails halfway keeps that partition's old rows and the
    other partitions."""
    import pyarrow as pa

    pdef = days()
    for key in ("2024-01-01", "2024-01-02"):
        assert write(case, tmp, kind, pdef, key, lambda k: day_rows(k, 2)).success
    schema = day_rows("2024-01-02", 0).schema

    def failing(key: str) -> Any:
        def batches() -> Iterator[Any]:
            yield from day_rows(key, 4, start=10).to_batches(max_chunksize=2)[:1]
            raise RuntimeError("source died mid-partition")

        return pa.RecordBatchReader.from_batches(schema, batches())

    arrow_reader = FrameKind("arrow-reader", kind.annotation, lambda t: t, kind.to_table)
    result = write(case, tmp, arrow_reader, pdef, "2024-01-02", failing)
    assert not result.success
    got = read(case, tmp, kind, pdef, metadata=ALLOW)
    _same(got, day_rows("2024-01-01"), day_rows("2024-01-02"))


def check_rows_outside(case: Any, kind: FrameKind, tmp: Path) -> None:
    """A partition write with rows of another day: a table store (``tables_only``) refuses it
    with an error saying so, and every partition keeps its old rows (the failed write deleted
    nothing); as the first partition of a table, it creates no table. A path or memory store has
    no partition column: it stores the value it is given as that partition's, and the other
    partitions are untouched."""
    import pyarrow as pa

    pdef = days()
    for key in ("2024-01-01", "2024-01-02"):
        assert write(case, tmp, kind, pdef, key, lambda k: day_rows(k, 2)).success
    stray = pa.concat_tables([day_rows("2024-01-02", 3, start=10), day_rows("2024-01-01", 1)])
    result = write(case, tmp, kind, pdef, "2024-01-02", lambda k: stray)
    if case.tables_only:
        assert not result.success
        err = next(iter(result.failures.values()))
        assert isinstance(err, StorageError), repr(err)
        assert "must belong to its partition" in str(err), str(err)
        _same(
            read(case, tmp, kind, pdef, metadata=ALLOW),
            day_rows("2024-01-01"),
            day_rows("2024-01-02"),
        )
        first = tmp / "first"  # a store of its own, where no table exists yet
        assert not write(case, first, kind, pdef, "2024-01-02", lambda k: stray).success
        assert read(case, first, kind, pdef, metadata=ALLOW).num_rows == 0
        return
    assert result.success
    _same(read(case, tmp, kind, pdef, key="2024-01-02", downstream=pdef), stray)
    _same(read(case, tmp, kind, pdef, key="2024-01-01", downstream=pdef), day_rows("2024-01-01"))


def check_dynamic_keys(case: Any, kind: FrameKind, tmp: Path) -> None:
    """Dynamic keys with quotes and SQL are stored and read back as plain values."""
    import pyarrow as pa

    instance = dg.DagsterInstance.get()
    pdef = dg.DynamicPartitionsDefinition(name="customers")
    keys = ["o'brien; DROP TABLE events; --", 'say "hi"']
    instance.add_dynamic_partitions("customers", keys)

    def source(key: str) -> Any:
        return pa.table({"day": pa.array([key]), "value": pa.array([len(key)], pa.int64())})

    for key in keys:
        assert write(case, tmp, kind, pdef, key, source).success
    _same(read(case, tmp, kind, pdef, key=keys[0], downstream=pdef), source(keys[0]))
    _same(read(case, tmp, kind, pdef), *(source(k) for k in keys))


def _pandas_as_is() -> FrameKind:
    import pandas as pd

    return FrameKind("pandas", lambda: pd.DataFrame, lambda value: value, lambda value: value)


def check_pandas_index(case: Any, kind: FrameKind, tmp: Path) -> None:
    """The partitions of a pandas asset keep their index, alone and read as one frame: a
    DatetimeIndex; integer labels, where a RangeIndex partition stores its labels in the
    table's index column. A table store refuses a partition whose index it has no column for
    (earlier partitions had a RangeIndex) rather than drop it, naming the asset and manager."""
    import pandas as pd

    pdef, frames = days(), _pandas_as_is()
    keys = pdef.get_partition_keys()

    def timed(key: str) -> Any:
        day = dt.date.fromisoformat(key)
        at = pd.DatetimeIndex([f"{key} 01:00", f"{key} 02:00"]).as_unit("us")
        return pd.DataFrame({"day": [day, day], "value": [1, 2]}, index=at)

    for key in keys:
        assert write(case, tmp, frames, pdef, key, timed).success, key
    one = read(case, tmp, frames, pdef, key=keys[1], downstream=pdef, annotation=pd.DataFrame)
    pd.testing.assert_frame_equal(one, timed(keys[1]))
    every = read(case, tmp, frames, pdef, annotation=pd.DataFrame)
    pd.testing.assert_frame_equal(every, pd.concat([timed(k) for k in keys]))

    labels = {keys[0]: [5, 6], keys[1]: None, keys[2]: [9, 8]}

    def numbered(key: str) -> Any:
        day = dt.date.fromisoformat(key)
        return pd.DataFrame({"day": [day, day], "value": [1, 2]}, index=labels[key])

    for key in keys:
        assert write(case, tmp / "ints", frames, pdef, key, numbered).success, key
    got = read(
        case, tmp / "ints", frames, pdef, key=keys[1], downstream=pdef, annotation=pd.DataFrame
    )
    assert list(got.index) == [0, 1]
    every = read(case, tmp / "ints", frames, pdef, annotation=pd.DataFrame)
    assert list(every.index) == [5, 6, 0, 1, 9, 8]

    labels = {keys[0]: None, keys[1]: [1, 0]}
    assert write(case, tmp / "late", frames, pdef, keys[0], numbered).success
    result = write(case, tmp / "late", frames, pdef, keys[1], numbered)
    if not case.tables_only:  # a file per partition: each keeps its own index
        assert result.success
        got = read(
            case, tmp / "late", frames, pdef, key=keys[1], downstream=pdef, annotation=pd.DataFrame
        )
        assert list(got.index) == [1, 0]
        return
    err = next(iter(result.failures.values()))
    assert isinstance(err, AssetTypeError), err
    assert "'events'" in str(err), str(err)
    assert type(case.io_manager(tmp)).__name__ in str(err), str(err)
    assert "reset_index(drop=True)" in str(err), str(err)


def check_quoted_partition_expr(case: Any, kind: FrameKind, tmp: Path) -> None:
    """Dagster's static-partition example with a quoted ``partition_expr`` (``'"Species"'``, in
    the store's own quotes: BigQuery's and MySQL's are backticks) names the column exactly:
    partitions are written, rewritten and loaded by it; on a table store a column that differs
    in case is refused, nothing stored."""
    import pyarrow as pa

    dialect = getattr(case.io_manager(tmp), "dialect", lambda: None)()
    q = dialect.quote if dialect is not None else '"'
    species = dg.StaticPartitionsDefinition(["Iris-setosa", "Iris-virginica"])
    meta = {"partition_expr": f"{q}Species{q}"}

    def put(column: str, key: str, n: int) -> Any:
        def iris(context):  # type: ignore[no-untyped-def]
            names = [context.partition_key] * n
            return kind.make(pa.table({column: names, "n": list(range(n))}))

        asset = dg.asset(name="iris", partitions_def=species, metadata=meta)(iris)
        resources = {"io_manager": case.io_manager(tmp)}
        return dg.materialize([asset], resources=resources, partition_key=key,
                              raise_on_error=False)  # fmt: skip

    def stored() -> list[tuple[Any, ...]]:
        sink: list[Any] = []

        def consume(iris):  # type: ignore[no-untyped-def]
            sink.append(iris)

        consume.__annotations__ = {"iris": kind.annotation(), "return": None}
        producer = dg.asset(name="iris", partitions_def=species, metadata=meta)(lambda: None)
        consumer = dg.asset(name="consumer")(consume)
        dg.materialize([producer, consumer], resources={"io_manager": case.io_manager(tmp)},
                       selection=[consumer])  # fmt: skip
        return rows(kind.to_table(sink[0]))

    assert put("Species", "Iris-setosa", 2).success
    assert put("Species", "Iris-virginica", 3).success
    assert put("Species", "Iris-setosa", 1).success  # only its partition's rows replaced
    virginica = [("Iris-virginica", n) for n in range(3)]
    want = [("Iris-setosa", 0), *virginica]  # (Species, n)
    assert stored() == want
    if case.tables_only:
        failed = put("species", "Iris-setosa", 2)
        assert not failed.success
        assert "matches no column" in str(next(iter(failed.failures.values())))
        assert stored() == want
