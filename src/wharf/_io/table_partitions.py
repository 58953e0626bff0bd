"""Partitions in table stores: partition keys become filters on the ``partition_expr`` columns.

``partition_expr`` metadata on the asset names the column that holds its partition:
``@asset(partitions_def=daily, metadata={"partition_expr": "day"})``. A multi-partitioned asset
names one column per dimension: ``{"partition_expr": {"date": "day", "region": "region"}}``.
It is a column name, quoted as an identifier, or on a SQL store an expression over columns
(``"TO_TIMESTAMP(time)"``), parsed and rendered again, never pasted
(:mod:`wharf._io.partition_expr`).

A static or dynamic key becomes ``column IN (key, ...)``; time windows become one range
``start <= column < end`` per run of consecutive windows, with bounds typed like the column:
aware timestamps for a time-zone aware column, wall-clock times of the partitions' time zone for
a naive one (as Dagster compares), dates for a DATE column, ``YYYY-MM-DD`` (at midnight) or
``YYYY-MM-DD HH:MM:SS`` text for a text column.
Values are always bound parameters.

A table store knows a partition by its rows: :func:`present_keys` reads only the partition
columns (stopping once every asked partition is seen) to find partitions that were never
written. A partition written with no rows therefore reads as missing.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wharf._core.partitioning.definitions import MultiPartitionsDefinition, PartitionsDefinition
from wharf._deps import require
from wharf._io.partition_expr import PartitionExpr, parse_partition_expr
from wharf._stores.base import PartitionFilter, TableReading
from wharf.errors import DefinitionError

Group = tuple[list[str], list[PartitionFilter]]
"""Partition keys read together, and the filters (ANDed) that select exactly their rows."""


@dataclass(frozen=True)
class Dim:
    """One partition dimension of a table: its name (multi only), column and definition."""

    name: str | None
    column: str
    pdef: PartitionsDefinition
    multi: MultiPartitionsDefinition | None = None
    expr: PartitionExpr | None = None
    sql: str | None = None  # the expression as SQL once bound to the columns; None: the column
    bound: Any = None  # the Arrow type of time-window bounds for an expression

    def key_of(self, key: str) -> str:
        """This dimension's part of a (multi-)partition key."""
        if self.name is None or self.multi is None:
            return key
        return self.multi.get_partition_key_from_str(key).keys_by_dimension[self.name]


def dimensions(
    pdef: PartitionsDefinition,
    metadata: Mapping[str, Any],
    *,
    asset: str,
    manager: str,
    dialect: str | None = None,
) -> list[Dim]:
    """The partition columns (or expressions, parsed in the SQL ``dialect``) of an asset from
    its ``partition_expr`` metadata; :func:`check_columns` binds them to the data's columns."""

    def dim(name: str | None, text: object, part: PartitionsDefinition, multi: Any) -> Dim:
        parsed = parse_partition_expr(str(text), dialect, asset=asset, manager=manager)
        return Dim(name, parsed.text, part, multi, parsed)

    expr = metadata.get("partition_expr")
    if isinstance(pdef, MultiPartitionsDefinition):
        names = pdef.partition_dimension_names
        if not isinstance(expr, Mapping) or set(expr) != set(names):
            example = {n: f"<{n} column>" for n in names}
            msg = (
                f"asset {asset!r} is multi-partitioned ({pdef.describe()}), so {manager} needs "
                f"metadata partition_expr={example}: expected one column per dimension, got "
                f"{expr!r}"
            )
            raise DefinitionError(msg, asset=asset, io_manager=manager, expected=str(example))
        return [dim(d.name, expr[d.name], d.partitions_def, pdef) for d in pdef.partitions_defs]
    if not isinstance(expr, str) or not expr:
        msg = (
            f"asset {asset!r} is partitioned ({pdef.describe()}), so {manager} needs metadata "
            f"partition_expr='<column>' naming the column that holds the partition: got {expr!r}"
        )
        raise DefinitionError(msg, asset=asset, io_manager=manager, expected="a column name")
    return [dim(None, expr, pdef, None)]


def check_columns(
    dims: Sequence[Dim],
    names: Sequence[str],
    *,
    asset: str,
    manager: str,
    stored: Sequence[str] | None = None,
) -> list[Dim]:
    """``dims`` bound to the data's (or table's) columns ``names``: each expression's columns
    matched as the database matches them, its SQL rendered; a missing column is refused.
    ``stored``: ``names`` as the table names them, where they load otherwise (lower-cased):
    the SQL names those."""
    if missing := [d.column for d in dims if d.expr is None and d.column not in names]:
        msg = (
            f"asset {asset!r} is partitioned by column(s) {missing} (partition_expr), but its "
            f"data has the columns {list(names)}: expected the partition column(s) in the data; "
            f"{manager} stored nothing"
        )
        raise DefinitionError(msg, asset=asset, io_manager=manager, expected=str(missing))
    bound = []
    for d in dims:
        if d.expr is None:
            bound.append(d)
            continue
        real = list(stored) if stored is not None else list(names)
        column, sql = d.expr.resolve(real, asset=asset, manager=manager)
        column = names[real.index(column)] if sql is not None and column in real else column
        kind = d.expr.bound_type() if sql is not None and d.pdef.is_time_window else None
        bound.append(Dim(d.name, column, d.pdef, d.multi, d.expr, sql, kind))
    return bound


def typed_bound(moment: datetime, arrow_type: Any) -> object:
    """A window boundary typed like the column it is compared with (see the module docstring)."""
    return _bound_maker(moment, arrow_type)(moment)


def _bound_maker(moment: datetime, arrow_type: Any) -> Any:
    """The function that types boundaries like ``moment`` for a column of ``arrow_type``,
    chosen once (many boundaries are typed in a loop)."""
    pa = require("pyarrow")
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_timestamp(arrow_type):
        return (lambda m: m) if arrow_type.tz else _naive
    midnight = moment.time() == datetime.min.time()
    if pa.types.is_date(arrow_type):
        return _date_or_naive if midnight else _naive
    text = (pa.types.is_string, pa.types.is_large_string, getattr(pa.types, "is_string_view", None))
    if any(check is not None and check(arrow_type) for check in text):
        fmt = "%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S"
        return lambda m: m.strftime(fmt)
    return _naive


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _date_or_naive(moment: datetime) -> object:
    return moment.date() if moment.time() == datetime.min.time() else _naive(moment)


def _window(dim: Dim, key: str, types: Mapping[str, Any]) -> tuple[object, object]:
    window = dim.pdef.time_window_for_partition_key(dim.key_of(key))
    kind = dim.bound if dim.bound is not None else types[dim.column]
    return typed_bound(window.start, kind), typed_bound(window.end, kind)


def filters_for(
    dims: Sequence[Dim], keys: Sequence[str], types: Mapping[str, Any]
) -> list[PartitionFilter]:
    """One filter per dimension selecting ``keys`` (a product; time windows consecutive)."""
    filters = []
    for dim in dims:
        if dim.pdef.is_time_window:
            start, _ = _window(dim, keys[0], types)
            _, end = _window(dim, keys[-1], types)
            filters.append(PartitionFilter(dim.column, start=start, end=end, sql=dim.sql))
        else:
            parts = tuple(dict.fromkeys(dim.key_of(k) for k in keys))
            filters.append(PartitionFilter(dim.column, values=parts, sql=dim.sql))
    return filters


def range_filters(
    dims: Sequence[Dim], keys: Sequence[str], types: Mapping[str, Any], *, asset: str, manager: str
) -> list[PartitionFilter]:
    """The filters of the partitions one run writes: one key, or a range run's keys (which
    must be one filter: consecutive windows, a product of the dimensions' keys)."""
    if len(keys) == 1:
        return filters_for(dims, keys, types)
    groups = plan_reads(dims, keys, types)
    if len(groups) != 1:
        msg = (
            f"asset {asset!r} materializes {len(keys)} partitions in one run, which {manager} "
            f"would select with {len(groups)} separate filters: expected a range of "
            "consecutive partitions that one filter selects, so the range is replaced in one "
            "write"
        )
        raise DefinitionError(
            msg, asset=asset, io_manager=manager, expected="one filter", got=str(len(groups))
        )
    return groups[0][1]


def plan_reads(dims: Sequence[Dim], keys: Sequence[str], types: Mapping[str, Any]) -> list[Group]:
    """As few reads as select exactly ``keys``: usually one ``IN`` or one range."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    if len(dims) == 1 and _consecutive(dims[0], keys):  # a range: no per-key parsing
        return [(keys, filters_for(dims, keys, types))]
    time_dims = [d for d in dims if d.pdef.is_time_window]
    if time_dims:
        dim = time_dims[0]
        keys.sort(
            key=lambda k: dim.pdef.time_window_for_partition_key(dim.key_of(k)).start.timestamp()
        )
    per_dim = [list(dict.fromkeys(d.key_of(k) for k in keys)) for d in dims]
    is_product = len(list(itertools.product(*per_dim))) == len(keys)
    if is_product and all(_consecutive(d, parts) for d, parts in zip(dims, per_dim, strict=True)):
        return [(keys, filters_for(dims, keys, types))]
    if len(dims) == 1:  # gaps between time windows: one range per run of consecutive windows
        return [(run, filters_for(dims, run, types)) for run in _runs(dims[0], keys)]
    return [([k], filters_for(dims, [k], types)) for k in keys]


def _consecutive(dim: Dim, parts: Sequence[str]) -> bool:
    if not dim.pdef.is_time_window:
        return True
    check = getattr(dim.pdef, "is_consecutive", None)
    if check is not None and check(parts):  # first and last key parsed, not every key
        return True
    windows = [dim.pdef.time_window_for_partition_key(p) for p in parts]
    return all(a.end.timestamp() == b.start.timestamp() for a, b in itertools.pairwise(windows))


def _runs(dim: Dim, keys: list[str]) -> Iterator[list[str]]:
    run: list[str] = []
    for key in keys:
        if run and not _consecutive(dim, [run[-1], key]):
            yield run
            run = []
        run.append(key)
    yield run


def _typed_bounds(moments: Sequence[datetime], arrow_type: Any) -> Any:
    """Window boundaries as one Arrow array of the column's type (see :func:`typed_bound`);
    for a timestamp column converted in Arrow (the instants, or their wall-clock times in the
    partitions' zone for a naive column), not one boundary at a time in Python."""
    pa, pc = require("pyarrow"), require("pyarrow.compute")
    column_type = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    if pa.types.is_timestamp(column_type) and moments and moments[0].tzinfo is not None:
        instants = pa.array(moments)  # timestamp[us, tz=<the partitions' zone>]
        return (instants if column_type.tz else pc.local_timestamp(instants)).cast(column_type)
    # text bounds in one format: with the time of day if any boundary has one (hourly
    # windows from midnight), so that they order as the column's values do
    late = next((m for m in moments if m.time() != datetime.min.time()), None)
    make = _bound_maker(late or moments[0], arrow_type) if moments else _naive
    return pa.array([make(m) for m in moments]).cast(column_type)


def _window_numbers(pdef: Any, distinct: list[str], kind: Any) -> tuple[Any, Any, list[int] | None]:
    """(starts, ends, order) of the windows of ``distinct`` keys as numpy values typed like
    the column (``kind``), sorted by start; ``order``: the keys' positions in that sorted
    order, None when they already are. A range gives its ``n + 1`` boundaries (made once,
    in numpy where they are arithmetic) as the starts, and None as the ends."""
    first = pdef.first_index(distinct) if len(distinct) > 1 else None
    if first is not None:  # a range: its n + 1 boundaries, in order
        micros = pdef.edge_micros(first, len(distinct) + 1)
        numbers = None if micros is None else _typed_micros(micros, kind)
        if numbers is None:
            numbers = _numbers(_typed_bounds(pdef.window_edges(distinct), kind))
        return numbers, None, None
    starts, ends = pdef.window_bounds(distinct)
    order: list[int] | None = sorted(range(len(distinct)), key=lambda i: starts[i].timestamp())
    if order == list(range(len(distinct))):
        order = None
    elif order is not None:
        starts, ends = [starts[i] for i in order], [ends[i] for i in order]
    return _numbers(_typed_bounds(starts, kind)), _numbers(_typed_bounds(ends, kind)), order


def _typed_micros(micros: Any, arrow_type: Any) -> Any:
    """Boundaries given as microseconds since the epoch (UTC: wall clock and instant agree)
    as numpy values typed like a timestamp or date column; None for other columns."""
    pa = require("pyarrow")
    column_type = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    if pa.types.is_timestamp(column_type):
        unit = pa.timestamp("us", tz="UTC" if column_type.tz else None)
        return _numbers(pa.array(micros, unit).cast(column_type))
    day = 86_400_000_000
    if pa.types.is_date(column_type) and not (micros % day).any():
        return _numbers(pa.array(micros // day, pa.int32()).cast(pa.date32()).cast(column_type))
    return None


def _numbers(array: Any) -> Any:
    """An Arrow array as numpy values that order as the column orders (strings as objects)."""
    return array.to_numpy(zero_copy_only=False)


def locate(
    table: Any, dims: Sequence[Dim], keys: Sequence[str], types: Mapping[str, Any]
) -> tuple[Any, list[str]]:
    """Which of ``keys`` each row of ``table`` belongs to: ``(positions, present)`` with one
    position in ``keys`` per row (-1: none) and the keys that have rows, in ``keys`` order.

    Vectorized: a value dimension is one ``index_in``, a time dimension one sorted search of
    the rows' values among the windows' boundaries; Python work is per distinct combination of
    dimension parts, not per row or per asked window."""
    np, pa, pc = require("numpy"), require("pyarrow"), require("pyarrow.compute")
    parts_of = [list(keys) if d.multi is None else [d.key_of(k) for k in keys] for d in dims]
    per_row = []
    for dim, parts in zip(dims, parts_of, strict=True):
        distinct = list(dict.fromkeys(parts))
        column = table.column(dim.column)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if not dim.pdef.is_time_window:
            where = pc.index_in(_as_text(column, pa, pc), value_set=pa.array(distinct))
            per_row.append(np.asarray(pc.fill_null(where, -1).to_numpy(zero_copy_only=False)))
            continue
        low, high, order = _window_numbers(dim.pdef, distinct, types[dim.column])
        values = _numbers(pc.fill_null(column, low[0]) if column.null_count else column)
        at = np.searchsorted(low, values, side="right") - 1
        if high is None:  # one range: low holds its n + 1 boundaries
            inside = (at >= 0) & (at < len(low) - 1)
        else:
            inside = at >= 0
            inside[inside] = values[inside] < high[at[inside]]
        if column.null_count:
            inside &= ~np.asarray(column.is_null().to_numpy(zero_copy_only=False))
        at = np.where(inside, at, -1)
        if order is None and len(distinct) == len(parts):  # windows in the caller's order
            per_row.append(at)
            continue
        # positions in the caller's order of distinct parts
        ordered = distinct if order is None else [distinct[i] for i in order]
        back = {p: i for i, p in enumerate(distinct)}
        remap = np.array([back[p] for p in ordered] + [-1])
        per_row.append(remap[at])
    if len(per_row) == 1 and len(set(keys)) == len(keys):  # a row's part is its key
        positions = np.asarray(per_row[0], dtype=np.int64)
    else:
        positions = _combined(np, per_row, parts_of, len(keys), table.num_rows)
    seen = np.zeros(len(keys) + 1, dtype=bool)
    seen[positions] = True  # -1 (no key) marks the extra last slot
    if seen[:-1].all():
        return positions, list(keys)
    return positions, [keys[n] for n in np.flatnonzero(seen[:-1])]


def _combined(
    np: Any, per_row: list[Any], parts_of: list[list[str]], count: int, rows_count: int
) -> Any:
    """Each row's position among the keys from its position in every dimension's parts."""
    index = [{p: i for i, p in enumerate(dict.fromkeys(parts))} for parts in parts_of]
    by_combo = {
        tuple(index[d][parts_of[d][n]] for d in range(len(per_row))): n for n in range(count)
    }
    rows = np.stack(per_row, axis=1) if per_row else np.zeros((rows_count, 0), dtype=int)
    positions = np.full(rows_count, -1, dtype=np.int64)
    if rows_count:
        combos, inverse = np.unique(rows, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).reshape(-1)
        mapped = np.array([by_combo.get(tuple(int(v) for v in c), -1) for c in combos])
        positions = mapped[inverse]
    return positions


def present_keys(
    session: TableReading,
    dims: Sequence[Dim],
    groups: Sequence[Group],
    types: Mapping[str, Any],
) -> set[str]:
    """The keys of ``groups`` with at least one row, reading only the partition columns
    (one query per group, usually one in all)."""
    found: set[str] = set()
    columns = list(dict.fromkeys(d.column for d in dims))
    if any(d.sql is not None for d in dims):  # an expression: the database finds each key
        for keys, _ in groups:
            for k in keys:
                reader = session.read(columns=columns[:1], partition=filters_for(dims, [k], types))
                try:
                    if any(batch.num_rows for batch in reader):
                        found.add(k)
                finally:
                    reader.close()
        return found
    try:
        for keys, filters in groups:
            reader = session.read(columns=columns, partition=filters)
            try:
                seen: set[str] = set()
                for batch in reader:  # stops once every asked partition is seen
                    seen.update(locate(batch, dims, keys, types)[1])
                    if len(seen) == len(keys):
                        break
                found |= seen
            finally:
                reader.close()
    except (TypeError, ValueError, require("pyarrow").ArrowException):
        return _present_keys_by_window(session, dims, groups, types)
    return found


def _present_keys_by_window(
    session: TableReading,
    dims: Sequence[Dim],
    groups: Sequence[Group],
    types: Mapping[str, Any],
) -> set[str]:
    """:func:`present_keys` for columns whose values numpy cannot order against the bounds:
    one window at a time, compared in Python or Arrow."""
    found: set[str] = set()
    columns = list(dict.fromkeys(d.column for d in dims))
    windows: dict[str, tuple[object, object]] = {}  # computed once for every batch
    time_dim = next((d for d in dims if d.pdef.is_time_window), None)
    if time_dim is not None:
        windows = {k: _window(time_dim, k, types) for keys, _ in groups for k in keys}
    for keys, filters in groups:
        wanted = {k: tuple(d.key_of(k) for d in dims) for k in keys}
        reader = session.read(columns=columns, partition=filters)
        try:
            for batch in reader:
                found |= _present(batch, dims, wanted, windows)
                wanted = {k: v for k, v in wanted.items() if k not in found}
                if not wanted:
                    break
        finally:
            reader.close()
    return found


def _present(
    batch: Any,
    dims: Sequence[Dim],
    wanted: dict[str, tuple[str, ...]],
    windows: Mapping[str, tuple[object, object]],
) -> set[str]:
    pa, pc = require("pyarrow"), require("pyarrow.compute")
    value_dims = [i for i, d in enumerate(dims) if not d.pdef.is_time_window]
    time_dims = [i for i, d in enumerate(dims) if d.pdef.is_time_window]
    texts = {i: _as_text(batch.column(dims[i].column), pa, pc) for i in value_dims}
    combos: list[tuple[str, ...]] = [()]
    if value_dims:
        table = pa.table({str(i): texts[i] for i in value_dims})
        distinct = table.group_by([str(i) for i in value_dims]).aggregate([])
        combos = [tuple(row[str(i)] for i in value_dims) for row in distinct.to_pylist()]
    found: set[str] = set()
    for combo in combos:
        keys = [k for k, parts in wanted.items() if tuple(parts[i] for i in value_dims) == combo]
        if not keys:
            continue
        if not time_dims:
            found.update(keys)
            continue
        dim = dims[time_dims[0]]
        column = batch.column(dim.column)
        if value_dims:
            mask = pa.array([True] * batch.num_rows)
            for i, value in zip(value_dims, combo, strict=True):
                mask = pc.and_(mask, pc.fill_null(pc.equal(texts[i], value), False))
            column = column.filter(mask)
        found |= _hits(column, {k: windows[k] for k in keys}, pa, pc)
    return found


def _as_text(column: Any, pa: Any, pc: Any) -> Any:
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return pc.cast(column, pa.string())


def _hits(column: Any, windows: dict[str, tuple[object, object]], pa: Any, pc: Any) -> set[str]:
    """The windows (key -> [low, high)) that hold at least one value of ``column``: the
    column's distinct values, sorted, bisected once per window in Python."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if getattr(pa.types, "is_string_view", lambda _: False)(column.type):
        column = column.cast(pa.large_string())  # no sort kernel for string views
    values = pc.unique(pc.drop_null(column))
    if len(values) == 0:
        return set()
    ordered = values.take(pc.sort_indices(values))
    try:  # bounds typed like the column, as Python values that compare with its values
        sorted_values = ordered.to_pylist()
        bounds = {
            key: (
                pa.scalar(low).cast(ordered.type).as_py(),
                pa.scalar(high).cast(ordered.type).as_py(),
            )
            for key, (low, high) in windows.items()
        }
        found = set()
        for key, (low, high) in bounds.items():
            at = bisect.bisect_left(sorted_values, low)
            if at < len(sorted_values) and sorted_values[at] < high:
                found.add(key)
    except TypeError:  # values Python cannot order against the bounds: compare in Arrow
        return _hits_arrow(ordered, windows, pa, pc)
    return found


def _hits_arrow(
    ordered: Any, windows: dict[str, tuple[object, object]], pa: Any, pc: Any
) -> set[str]:
    found = set()
    for key, (low, high) in windows.items():
        low_s, high_s = pa.scalar(low).cast(ordered.type), pa.scalar(high).cast(ordered.type)
        lo, hi = 0, len(ordered)
        while lo < hi:  # the first value >= low
            mid = (lo + hi) // 2
            if pc.less(ordered[mid], low_s).as_py():
                lo = mid + 1
            else:
                hi = mid
        if lo < len(ordered) and pc.less(ordered[lo], high_s).as_py():
            found.add(key)
    return found
