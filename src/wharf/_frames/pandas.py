"""pandas: ``pd.DataFrame`` to and from Arrow.

Out, ``pa.Table.from_pandas`` converts the frame and records each column's pandas dtype in the
schema's ``pandas`` metadata. Back in, when that metadata survived the store (memory, Parquet
and Arrow IPC stores keep it), ``Table.to_pandas`` restores the exact dtypes: nullable
``Int64``/``boolean``/``string``, ``str``, categoricals, tz-aware and naive datetimes (with their
unit), ``datetime.date`` and ``Decimal`` objects, all-null ``object`` columns.

**The index and the column labels** are kept as pandas' own Arrow metadata keeps them
(:mod:`wharf._frames.pandas_index`): a non-range index (a ``DatetimeIndex``, the leftover
labels of a filter or sort, a named index, each level of a ``MultiIndex``) is stored as
ordinary columns, ``__index_level_0__`` when unnamed, and restored as the index on a pandas
load; a ``RangeIndex`` stays implicit (metadata only). Integer labels and a ``MultiIndex`` of
columns come back as they were; labels that would not (mixed ``str`` and ``int``) are refused
before anything is stored. Every store keeps the metadata (SQL stores in the schema comment),
so this holds everywhere. Loaded as polars, pyarrow, Spark or a DuckDB relation, the index
columns are ordinary columns. A column projection that leaves them out loads a default
``RangeIndex``.

**Without pandas metadata** (rows that came back from a database) the dtype follows the Arrow
type, with one data-dependent rule that never loses a value:

=====================================  ==============================================
Arrow type                             pandas dtype
=====================================  ==============================================
int*/uint*, no nulls                   numpy int of the same width (``int64``, ...)
int*/uint*, some nulls                 nullable ``Int64``/``UInt8``/... (never float)
bool, no nulls / some nulls            ``bool`` / nullable ``boolean``
float16/32/64                          numpy float, nulls become ``NaN``
string, large_string, string_view      the default string dtype (``str`` in pandas 3)
dictionary                             ``category``
timestamp[unit, tz]                    ``datetime64[unit, tz]`` (naive without tz)
date32/date64                          ``object`` of ``datetime.date``
decimal128/256                         ``object`` of ``decimal.Decimal``
null                                   ``object`` of ``None``
=====================================  ==============================================

The nullable rule is also applied when the metadata says ``int64`` but nulls turned up (a
partition written later). Known losses: the storage of the
``string`` dtype (python or pyarrow) is not kept, only its values and ``NA``; ``Decimal``
objects come back at the column's common scale (``Decimal("1.1")`` as ``Decimal("1.10")``,
equal in value); floats lose the difference between null and ``NaN``, as pandas has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wharf._deps import require
from wharf._frames.base import as_reader, check_value, matches_any, table_reader
from wharf._frames.pandas_index import frame_to_table, restore_index

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["PandasAdapter"]


class PandasAdapter:
    """``pandas.DataFrame``, eager; round-trips losslessly through Arrow (see module notes).

    Examples:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "s": ["a", "é"]})
        >>> adapter = PandasAdapter()
        >>> back = adapter.from_arrow(adapter.to_arrow(df), pd.DataFrame)
        >>> back.equals(df), str(back["n"].dtype)
        (True, 'Int64')
    """

    name: str = "pandas"
    lazy: bool = False
    _paths = frozenset({"pandas.core.frame.DataFrame", "pandas.DataFrame"})

    def matches_type(self, tp: type) -> bool:
        """Whether ``tp`` is ``pd.DataFrame`` or a subclass."""
        return matches_any(tp, self._paths)

    def to_arrow(self, obj: Any) -> pa.RecordBatchReader:
        """Convert with ``pa.Table.from_pandas``, keeping the index and column labels."""
        check_value(self, obj)
        table = frame_to_table(obj)
        return table_reader(_type_empty_string_categories(obj, table))

    def from_arrow(self, reader: pa.RecordBatchReader, tp: type) -> Any:
        """Read all batches and build a ``pd.DataFrame`` (pandas metadata first, then rules)."""
        pd = require("pandas", purpose="loading a pandas.DataFrame")
        table = _without_views(as_reader(reader).read_all())
        frame = table.to_pandas()
        _keep_integer_nulls(table, frame, pd)
        _string_categories_when_empty(table, frame, pd)
        return restore_index(frame, table.schema.metadata)

    def type_names(self) -> tuple[str, ...]:
        """``("pandas.DataFrame",)``."""
        return ("pandas.DataFrame",)


def _without_views(table: pa.Table) -> pa.Table:
    """``table`` with view types nested in lists and structs (polars' ``List(String)`` comes
    as ``large_list<string_view>``) cast to plain ones: ``to_pandas`` cannot convert them."""
    pa = require("pyarrow")

    def plain(t: Any) -> Any:
        if pa.types.is_string_view(t):
            return pa.large_string()
        if pa.types.is_binary_view(t):
            return pa.large_binary()
        if pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
            return pa.large_list(plain(t.value_type))
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            make = pa.large_list if pa.types.is_large_list(t) else pa.list_
            return make(t.value_field.with_type(plain(t.value_type)))
        if pa.types.is_struct(t):
            return pa.struct([f.with_type(plain(f.type)) for f in t])
        return t

    nested = [f.with_type(plain(f.type)) if pa.types.is_nested(f.type) else f for f in table.schema]
    schema = pa.schema(nested, metadata=table.schema.metadata)
    return table if schema.equals(table.schema) else table.cast(schema)


def _own_column(frame: pd.DataFrame, name: str) -> bool:
    """Whether ``name`` labels exactly one column of ``frame``."""
    return name in frame.columns and isinstance(frame.columns.get_loc(name), int)


def _type_empty_string_categories(frame: pd.DataFrame, table: pa.Table) -> pa.Table:
    """Arrow types a categorical without categories as ``dictionary<null>``; keep it a string
    dictionary when its (empty) categories have the string dtype, so it comes back as such."""
    pa = require("pyarrow")
    for index, field in enumerate(table.schema):
        kind = field.type
        if not (pa.types.is_dictionary(kind) and pa.types.is_null(kind.value_type)):
            continue
        if not _own_column(frame, field.name) or frame[field.name].cat.categories.dtype == object:
            continue
        words = pa.dictionary(kind.index_type, pa.large_string(), kind.ordered)
        no_words = pa.array([], pa.large_string())
        chunks = [
            pa.DictionaryArray.from_arrays(chunk.indices, no_words, ordered=kind.ordered)
            for chunk in table.column(index).chunks
        ]
        table = table.set_column(index, field.with_type(words), pa.chunked_array(chunks, words))
    return table


def _keep_integer_nulls(table: pa.Table, frame: pd.DataFrame, pd: Any) -> None:
    """Give int/bool columns with nulls a nullable dtype instead of float64/object."""
    pa = require("pyarrow")
    nullable = {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.UInt8Dtype(),
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    for field, column in zip(table.schema, table.columns, strict=True):
        dtype = nullable.get(field.type)
        if dtype is None or column.null_count == 0 or not _own_column(frame, field.name):
            continue
        if not isinstance(frame[field.name].dtype, pd.api.extensions.ExtensionDtype):
            frame[field.name] = dtype.__from_arrow__(column)


def _string_categories_when_empty(table: pa.Table, frame: pd.DataFrame, pd: Any) -> None:
    """An empty dictionary of strings gives ``object`` categories; use the string dtype."""
    pa = require("pyarrow")
    for field in table.schema:
        if not pa.types.is_dictionary(field.type) or not _own_column(frame, field.name):
            continue
        value_type = field.type.value_type
        is_text = pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
        if not (is_text or pa.types.is_string_view(value_type)):
            continue
        column = frame[field.name]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            continue
        categories = column.cat.categories
        if len(categories) == 0 and categories.dtype == object:
            frame[field.name] = column.cat.set_categories(pd.Index([], dtype="str"))
