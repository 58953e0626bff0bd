"""Per-asset storage options of table stores: the typed :class:`TableOptions` and the untyped
metadata keys it stands for.

Dagster reads storage options from an asset's ``metadata`` (``schema``, ``partition_expr``) and
an input's (``columns``); wharf adds ``write_mode`` and ``merge_keys``. Both forms work::

    @asset(metadata={"schema": "sales", "write_mode": "merge", "merge_keys": ["id"]})
    @asset(metadata=TableOptions(schema="sales", write_mode="merge", merge_keys=["id"]))

:class:`TableOptions` is a ``dict`` of exactly those keys, checked when it is built (so when the
asset is defined); it can be merged with other metadata (``{**TableOptions(...), "owner": ...}``).
Untyped keys are checked before a run by the table I/O manager that stores the asset, where a
key one letter away from a storage key (``partiton_expr``) is an error with a "did you mean".
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from wharf._stores.base import check_name, check_write_mode
from wharf.errors import DefinitionError

__all__ = [
    "STORAGE_KEYS",
    "TableOptions",
    "check_storage_metadata",
    "refuse_write_modes",
    "write_options",
]

#: the metadata keys table stores read (outputs: the first four; inputs: ``columns``)
STORAGE_KEYS = ("schema", "partition_expr", "write_mode", "merge_keys", "columns")
#: other keys wharf reads from metadata, which are not misspellings of a storage key
_OTHER_KEYS = ("allow_missing_partitions",)


class TableOptions(dict[str, Any]):
    """Storage options of a table asset (or an input's ``columns``), checked when built.

    Args:
        schema: the schema (BigQuery: dataset) of the table; else the I/O manager's, then the
            key prefix, then ``public``.
        partition_expr: the column (or SQL expression over columns) holding the partition; a
            mapping of dimension name to column for a multi-partitioned asset.
        write_mode: ``"replace"`` (the default), ``"append"`` or ``"merge"``.
        merge_keys: the columns identifying a row, for ``write_mode="merge"``.
        columns: for an input (``AssetIn(metadata=TableOptions(columns=[...]))``): load only
            these columns.

    Examples:
        >>> TableOptions(schema="sales", write_mode="merge", merge_keys=["id"])
        {'schema': 'sales', 'write_mode': 'merge', 'merge_keys': ['id']}
        >>> TableOptions(write_mode="merge")
        Traceback (most recent call last):
        ...
        wharf.errors.DefinitionError: TableOptions: write_mode 'merge' needs merge_keys=[...], \
the columns that identify a row
    """

    def __init__(
        self,
        *,
        schema: str | None = None,
        partition_expr: str | Mapping[str, str] | None = None,
        write_mode: str | None = None,
        merge_keys: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> None:
        given = {
            "schema": schema,
            "partition_expr": partition_expr,
            "write_mode": write_mode,
            "merge_keys": list(merge_keys) if merge_keys is not None else None,
            "columns": list(columns) if columns is not None else None,
        }
        options = {k: v for k, v in given.items() if v is not None}
        try:
            _check_values(options)
        except DefinitionError as exc:
            msg = f"TableOptions: {exc.message}"
            raise DefinitionError(msg, expected=exc.expected, got=exc.got) from None
        super().__init__(options)


def _check_values(metadata: Mapping[str, Any]) -> None:
    """The storage keys of ``metadata`` have values of the right shape."""
    schema = metadata.get("schema")
    if schema is not None and isinstance(schema, str):
        check_name(schema, "schema")
    write_options(metadata)
    columns = metadata.get("columns")
    if columns is not None:
        if isinstance(columns, str) or not isinstance(columns, Sequence):
            msg = f"columns must be a list of column names, got {columns!r}"
            raise DefinitionError(msg, expected="a list of column names", got=repr(columns))
        for c in columns:
            check_name(c, "column")
    expr = metadata.get("partition_expr")
    if expr is not None:
        from wharf._io.partition_expr import parse_partition_expr

        for one in expr.values() if isinstance(expr, Mapping) else [expr]:
            parse_partition_expr(str(one), "")  # any SQL dialect: one expression, no ';'


def write_options(metadata: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The ``(write_mode, merge_keys)`` of an asset's metadata (``replace`` by default).

    Examples:
        >>> write_options({"write_mode": "append"})
        ('append', ())
    """
    return check_write_mode(metadata.get("write_mode", "replace"), metadata.get("merge_keys"))


def check_storage_metadata(metadata: Mapping[str, Any], *, asset: str, manager: str) -> None:
    """Refuse, before a run, storage options ``manager`` cannot use: a misspelt storage key
    (with a "did you mean"), or a value of the wrong shape.

    Examples:
        >>> check_storage_metadata({"partiton_expr": "day"}, asset="events", manager="M")
        Traceback (most recent call last):
        ...
        wharf.errors.DefinitionError: asset 'events' has metadata key 'partiton_expr', which M \
does not know: did you mean 'partition_expr'? (storage keys: schema, partition_expr, \
write_mode, merge_keys, columns)
    """
    for key in metadata:
        if not isinstance(key, str) or key in STORAGE_KEYS or key in _OTHER_KEYS:
            continue
        close = difflib.get_close_matches(key, STORAGE_KEYS, n=1, cutoff=0.85)
        if close:
            msg = (
                f"asset {asset!r} has metadata key {key!r}, which {manager} does not know: did "
                f"you mean {close[0]!r}? (storage keys: {', '.join(STORAGE_KEYS)})"
            )
            raise DefinitionError(msg, asset=asset, io_manager=manager, expected=close[0], got=key)
    try:
        _check_values(metadata)
    except DefinitionError as exc:
        msg = f"asset {asset!r} ({manager}): {exc.message}"
        raise DefinitionError(
            msg, asset=asset, io_manager=manager, expected=exc.expected, got=exc.got
        ) from None


def refuse_write_modes(context: Any, manager: object) -> None:
    """An I/O manager that stores whole values (files, objects, memory) refuses ``append`` and
    ``merge`` for the output of ``context``: it would silently replace the value instead."""
    mode, _ = write_options(context.definition_metadata)
    if mode == "replace":
        return
    key = getattr(context, "asset_key_or_none", None)
    what = f"asset {key.to_user_string()!r}" if key is not None else f"output {context.name!r}"
    asset, manager = key.to_user_string() if key is not None else None, type(manager).__name__
    if key is None and getattr(context, "step_key", None):
        what += f" of op {context.step_key!r}"
    msg = (
        f"{what} asks for write_mode {mode!r}, but {manager} stores each value whole "
        "and can only replace it: expected write_mode 'replace' (the default), or a table I/O "
        "manager (DuckDB, PostgreSQL, Snowflake, BigQuery) for append and merge"
    )
    raise DefinitionError(msg, asset=asset, io_manager=manager, expected="replace", got=mode)
