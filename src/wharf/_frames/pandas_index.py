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

__all__ = ["NOTES_KEY", "frame_to_table", "restore_index"]

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
    metadata of ``table``, with no rows)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = table.schema.empty_table().to_pandas().columns
    want = frame.columns
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
