"""A pandas frame's index and column labels through Arrow, kept the way pandas itself keeps them.

``pa.Table.from_pandas`` (with its default ``preserve_index=None``) stores a non-range index as
ordinary columns (``__index_level_0__`` when unnamed, else the level's name) and a
``RangeIndex`` only in the schema's ``pandas`` metadata, which also records the column labels'
types and levels (integer labels, a ``MultiIndex`` of columns). ``Table.to_pandas`` restores all
of it. Every store keeps that metadata: Parquet in its footer, SQL stores in the schema comment
(:mod:`wharf._stores.schema_codec`), memory as the object itself. Loaded as polars or pyarrow,
the index columns are ordinary columns, named as above.

Two things the ``pandas`` metadata does not keep are noted under the schema metadata key
:data:`NOTES_KEY`: the ``freq`` of a ``DatetimeIndex``/``TimedeltaIndex`` (``pd.date_range``
sets one, and ``assert_frame_equal`` compares it), and the ``RangeIndex`` of a frame without
columns, which is stored as a column (a table of no columns cannot keep a row count in Parquet
or SQL). Column labels Arrow cannot give back (mixed types such as ``["a", 1]``, floats that
are NaN) are refused before anything is stored.
"""

from __future__ import annotations

import contextlib
import json
import numbers
import warnings
from typing import TYPE_CHECKING, Any

from wharf._deps import require
from wharf.errors import AssetTypeError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "NOTES_KEY",
    "align_indexes",
    "fit_partition",
    "frame_to_table",
    "index_columns",
    "restore_index",
    "with_range_as",
]

#: schema metadata key of what the ``pandas`` metadata does not keep (JSON)
NOTES_KEY = b"wharf.pandas"


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table that keeps its index and column labels.

    Raises:
        AssetTypeError: a column label Arrow would turn into another one, or a column (or index
            level) Arrow cannot represent.

    Examples:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"v": [1, 2]}, index=pd.Index([10, 20]))
        >>> frame_to_table(df).column_names
        ['v', '__index_level_0__']
        >>> frame_to_table(pd.DataFrame({"v": [1, 2]})).column_names  # a RangeIndex stays implicit
        ['v']
    """
    pa = require("pyarrow", purpose="converting pandas to Arrow")
    no_columns = frame.shape[1] == 0
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*mixed type", category=UserWarning)
        try:
            table = pa.Table.from_pandas(frame, preserve_index=True if no_columns else None)
        except UserWarning:  # pyarrow would store the labels as their str()
            kinds = sorted({type(label).__name__ for label in frame.columns})
            what = f"labels of mixed types ({', '.join(kinds)}) would come back as strings"
            raise _label_error(frame, what) from None
        except (pa.ArrowException, ValueError, TypeError) as exc:
            expected = "a pandas.DataFrame whose columns and index Arrow can represent"
            msg = f"Cannot convert this pandas.DataFrame to Arrow: {exc}"
            raise AssetTypeError(msg, expected=expected, got="pandas.DataFrame") from exc
    _check_labels(frame, table)
    notes = _notes(frame, no_columns=no_columns)
    if notes:
        metadata = {**(table.schema.metadata or {}), NOTES_KEY: json.dumps(notes).encode()}
        table = table.replace_schema_metadata(metadata)
    return table


def restore_index(frame: pd.DataFrame, metadata: dict[bytes, bytes] | None) -> pd.DataFrame:
    """Give ``frame`` (from ``Table.to_pandas``) what :data:`NOTES_KEY` noted: the ``freq`` of
    its index, the ``RangeIndex`` of a frame without columns. A note that no longer fits the rows
    (several partitions read as one) is ignored."""
    pd = require("pandas")
    raw = (metadata or {}).get(NOTES_KEY)
    if raw is None:
        return frame
    try:
        notes = json.loads(raw)
    except ValueError:
        return frame
    span = notes.get("range")
    if span and frame.shape[1] == 0 and len(range(*span)) == len(frame):
        frame.index = pd.RangeIndex(*span, name=frame.index.name)
    freq = notes.get("freq")
    kinds = (pd.DatetimeIndex, pd.TimedeltaIndex)
    if freq and isinstance(frame.index, kinds) and frame.index.freq is None:
        with contextlib.suppress(ValueError):  # the rows no longer follow it
            frame.index = type(frame.index)(frame.index, freq=freq)
    return frame


def _notes(frame: pd.DataFrame, *, no_columns: bool) -> dict[str, Any]:
    pd = require("pandas")
    notes: dict[str, Any] = {}
    index = frame.index
    if no_columns and isinstance(index, pd.RangeIndex):
        notes["range"] = [index.start, index.stop, index.step]
    if isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)) and index.freq is not None:
        notes["freq"] = index.freqstr
    return notes


def _check_labels(frame: pd.DataFrame, table: pa.Table) -> None:
    """Refuse column labels that would not come back as they are (read back from the
    metadata of ``table``, with no rows). Plain text labels of one level always come back,
    so they are not read back (that costs ~2 ms: per partition of a many-partition run)."""
    want = frame.columns
    plain = want.nlevels == 1 and (want.name is None or type(want.name) is str)
    if plain and all(type(c) is str for c in want):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = table.schema.empty_table().to_pandas().columns
    if back.nlevels != want.nlevels or list(back.names) != list(want.names):
        raise _label_error(frame, f"levels {list(want.names)} would come back as {back.names}")
    for got, label in zip(back, want, strict=True):
        if not _same_label(got, label):
            raise _label_error(frame, f"label {label!r} would come back as {got!r}")


def _same_label(got: Any, label: Any) -> bool:
    """Equal labels of the same kind (text, number, other); numpy scalars count as numbers."""
    if isinstance(label, tuple) and isinstance(got, tuple) and len(got) == len(label):
        return all(_same_label(g, w) for g, w in zip(got, label, strict=True))
    try:
        equal = bool(got == label)
    except (TypeError, ValueError):
        return False
    kinds = (str, numbers.Number)
    return equal and all(isinstance(got, k) == isinstance(label, k) for k in kinds)


def _label_error(frame: pd.DataFrame, what: str) -> AssetTypeError:
    shown = list(frame.columns)
    got = f"column labels {shown[:5]}{' ...' if len(shown) > 5 else ''}"
    msg = (
        f"the pandas.DataFrame's column {what}: expected column labels that round-trip through "
        f"Arrow (all strings, all integers, a MultiIndex of those), got {got}; rename the "
        "columns first, e.g. df.columns = df.columns.map(str)"
    )
    return AssetTypeError(msg, expected="column labels that round-trip", got=got)


# -- partitions: one table, or one frame, from frames whose index differs ------------------
def index_columns(schema: Any) -> list[str]:
    """The columns that hold a pandas index, per the ``pandas`` metadata of ``schema``.

    Examples:
        >>> import pandas as pd
        >>> index_columns(frame_to_table(pd.DataFrame({"v": [1]}, index=[7])).schema)
        ['__index_level_0__']
    """
    return [c for c in _pandas_meta(schema).get("index_columns", []) if isinstance(c, str)]


def with_range_as(reader: Any, name: str) -> Any:
    """``reader`` (a pandas frame whose index is a ``RangeIndex``, kept as metadata only) with
    that index stored as column ``name``, its values the range's; None when it has no
    ``RangeIndex`` or has index columns already."""
    pa = require("pyarrow")
    meta = _pandas_meta(reader.schema)
    ranges = [c for c in meta.get("index_columns", []) if isinstance(c, dict)]
    if len(ranges) != 1 or len(meta["index_columns"]) != 1 or name in reader.schema.names:
        return None
    span = ranges[0]
    start, step = int(span.get("start", 0)), int(span.get("step", 1))
    entry = {
        "name": span.get("name"), "field_name": name, "pandas_type": "int64",
        "numpy_type": "int64", "metadata": None,
    }  # fmt: skip
    meta = {**meta, "index_columns": [name], "columns": [*meta.get("columns", []), entry]}
    metadata = {**(reader.schema.metadata or {}), b"pandas": json.dumps(meta).encode()}
    schema = reader.schema.append(pa.field(name, pa.int64())).with_metadata(metadata)

    def batches() -> Any:
        done = 0
        for batch in reader:
            labels = range(start + step * done, start + step * (done + batch.num_rows), step)
            done += batch.num_rows
            arrays = [*batch.columns, pa.array(labels, pa.int64())]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def fit_partition(reader: Any, stored: Any, where: str) -> Any:
    """A pandas partition's stream, fitted to the index columns of the ``stored`` table schema
    (None: no table yet). A ``RangeIndex`` is stored as the table's index column; an index the
    table has no column for is refused, since storing the partition would drop it.

    Raises:
        AssetTypeError: the partition has index columns the table lacks, or lacks (other than
            as an integer ``RangeIndex``) index columns the table has.
    """
    if stored is None or b"pandas" not in (reader.schema.metadata or {}):
        return reader
    pa = require("pyarrow")
    wanted = [c for c in index_columns(stored) if c not in reader.schema.names]
    integers = all(pa.types.is_integer(stored.field(c).type) for c in wanted)
    if len(wanted) == 1 and integers and (fitted := with_range_as(reader, wanted[0])):
        return fitted
    if wanted:
        types = ", ".join(f"{c} {stored.field(c).type}" for c in wanted)
        msg = (
            f"{where} keeps the pandas index of earlier partitions in column(s) {types}, but "
            "this partition's pandas.DataFrame has no such index: give every partition the "
            "same kind of index (df.set_index(...)), or rewrite the earlier partitions"
        )
        raise AssetTypeError(msg, expected=f"index {wanted}", got="another index")
    extra = [c for c in index_columns(reader.schema) if c not in stored.names]
    if extra:
        msg = (
            f"the pandas.DataFrame of this partition has an index that is not a RangeIndex "
            f"(a filter or sort can leave one), kept as column(s) {extra}, but {where}, which "
            "earlier partitions wrote with a RangeIndex, has no such column: storing the "
            "partition would drop its index. Return df.reset_index(drop=True) if the labels do "
            "not matter, or give every partition the same kind of index"
        )
        raise AssetTypeError(msg, expected=f"columns {stored.names}", got=f"index {extra}")
    return reader


def align_indexes(readers: list[Any]) -> list[Any]:
    """Streams of several pandas partitions, to be read as one frame: where some keep their
    index as a column and others have a ``RangeIndex``, the ranges become that column too, so
    the combined frame's index is every partition's labels."""
    names = next((index_columns(r.schema) for r in readers if index_columns(r.schema)), [])
    if len(names) != 1:
        return readers
    return [with_range_as(r, names[0]) or r for r in readers]


def _pandas_meta(schema: Any) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(b"pandas")
    try:
        meta = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}
