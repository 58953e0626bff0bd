"""``partition_expr`` as Dagster allows it: a column, or a SQL expression over the table's columns.

``"day"``, ``'"Species"'`` (a quoted name, matched exactly), ``"TO_TIMESTAMP(time)"``,
``"CAST(day AS DATE)"``. The text is parsed with sqlglot in the store's SQL dialect, never
pasted: a second statement, a ``;``, a comment, a subquery, a statement, a ``*`` or a parameter
placeholder is refused. Its column references are then matched to the table's columns the way
the database matches an unquoted identifier (DuckDB, Snowflake, BigQuery: ignoring case;
PostgreSQL: folded to lower case; a quoted name exactly) and written back quoted with the
column's real name, so the SQL that runs is rendered from the parsed tree. Partition values
stay bound parameters.

A text sqlglot cannot read as one expression (``"my day"``) names a column exactly, as before.
Stores without SQL (Delta Lake, Iceberg) take column names only, plain or double-quoted
(``'"Species"'``), matched exactly.

The type a time window's bounds are given follows the expression's type as sqlglot infers it:
a date for ``DATE``, an aware time for a zoned timestamp, text for text; any other timestamp is
compared as the partitions' wall-clock time, as Dagster compares.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wharf._deps import require
from wharf._stores.base import check_name
from wharf.errors import DefinitionError

__all__ = ["PartitionExpr", "parse_partition_expr"]

#: wharf's Dialect.name -> sqlglot's dialect name
SQLGLOT_DIALECTS = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "sqlite": "sqlite",
    "mysql": "mysql",
}
#: databases that fold an unquoted identifier to lower case; the others ignore its case
_FOLDS_LOWER = frozenset({"postgres"})
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTED = re.compile(r'"(?:[^"]|"")+"')


@dataclass(frozen=True)
class PartitionExpr:
    """A checked ``partition_expr``: ``tree`` is the parsed expression, or None when the text
    names a column (``quoted``: exactly; else as the database matches unquoted names)."""

    text: str
    dialect: str | None
    tree: Any = None
    quoted: bool = True

    def is_column(self) -> bool:
        """Whether this is one column, not an expression over columns."""
        return self.tree is None

    def resolve(
        self, columns: Sequence[str], *, asset: str, manager: str
    ) -> tuple[str, str | None]:
        """``(column, sql)``: the real name of the (first) column it reads, and the SQL to
        filter on (None for a plain column: the store quotes it)."""
        if self.tree is None:
            return _match(self.text, self.quoted, columns, self, asset=asset, manager=manager), None
        exp = require("sqlglot.expressions", purpose="a SQL partition_expr")
        tree = self.tree.copy()
        first = None
        for col in list(tree.find_all(exp.Column)):
            quoted = bool(col.this.quoted)
            name = _match(col.name, quoted, columns, self, asset=asset, manager=manager)
            first = first or name
            col.replace(exp.column(name, quoted=True))
        sql: str = tree.sql(dialect=SQLGLOT_DIALECTS.get(self.dialect or "", self.dialect))
        return first or columns[0], sql

    def bound_type(self) -> Any:
        """The Arrow type time-window bounds are given for this expression."""
        pa = require("pyarrow")
        annotate = require("sqlglot.optimizer.annotate_types").annotate_types
        kind = annotate(self.tree.copy(), dialect=SQLGLOT_DIALECTS.get(self.dialect or "")).type
        name = kind.this.name if kind is not None else "UNKNOWN"
        if name == "DATE":
            return pa.date32()
        if name in {"TIMESTAMPTZ", "TIMESTAMPLTZ"}:
            return pa.timestamp("us", tz="UTC")
        if name in {"TEXT", "VARCHAR", "CHAR", "NVARCHAR", "NCHAR"}:
            return pa.string()
        return pa.timestamp("us")


def _match(
    name: str,
    quoted: bool,
    columns: Sequence[str],
    expr: PartitionExpr,
    *,
    asset: str,
    manager: str,
) -> str:
    if name in columns:
        return name
    if not quoted:
        if expr.dialect in _FOLDS_LOWER:
            found = [c for c in columns if c == name.lower()]
        else:
            found = [c for c in columns if c.casefold() == name.casefold()]
        if len(found) == 1:
            return found[0]
    how = "exactly" if quoted else "as the database matches an unquoted name"
    msg = (
        f"asset {asset!r} is partitioned by partition_expr {expr.text!r}, whose column {name!r} "
        f"matches no column of the data ({how}): its columns are {list(columns)}; {manager} "
        "stored nothing"
    )
    raise DefinitionError(
        msg, asset=asset, io_manager=manager, expected=name, got=str(list(columns))
    )


def parse_partition_expr(
    text: str, dialect: str | None, *, asset: str = "", manager: str = ""
) -> PartitionExpr:
    """Check ``text`` (see the module docstring); refused with a :class:`DefinitionError`.

    Examples:
        >>> parse_partition_expr("day", "duckdb").is_column()
        True
        >>> parse_partition_expr("CAST(day AS DATE)", "duckdb").resolve(["Day"], asset="a",
        ...     manager="M")
        ('Day', 'CAST("Day" AS DATE)')
        >>> parse_partition_expr("day; DROP TABLE t", "duckdb")
        Traceback (most recent call last):
        ...
        wharf.errors.DefinitionError: partition_expr 'day; DROP TABLE t' is refused: it holds \
a ';' (one expression over the table's columns is expected)
    """
    check_name(text, "partition column")
    if _PLAIN.fullmatch(text):
        return PartitionExpr(text, dialect, quoted=dialect is None)
    if dialect is None:  # a store without SQL: a column name, as given or double-quoted
        if _QUOTED.fullmatch(text):
            return PartitionExpr(text[1:-1].replace('""', '"'), dialect)
        return PartitionExpr(text, dialect)
    sqlglot = require("sqlglot", purpose="a SQL partition_expr")
    exp = require("sqlglot.expressions")
    read = SQLGLOT_DIALECTS.get(dialect, dialect)
    try:
        tokens = sqlglot.Dialect.get_or_raise(read).tokenize(text)
    except sqlglot.errors.SqlglotError:
        return PartitionExpr(text, dialect)  # not SQL: a column name, matched exactly
    if any(t.token_type == sqlglot.TokenType.SEMICOLON for t in tokens):
        _refuse(text, "a ';'", asset, manager)
    if any(t.comments for t in tokens):
        _refuse(text, "a comment", asset, manager)
    try:
        trees = sqlglot.parse(text, read=read)
    except sqlglot.errors.SqlglotError:
        return PartitionExpr(text, dialect)
    if len(trees) != 1 or trees[0] is None:
        _refuse(text, f"{len(trees)} statements", asset, manager)
    tree = trees[0]
    if isinstance(tree, exp.Alias):  # "my day": a column name with a space
        return PartitionExpr(text, dialect)
    banned = (exp.Query, exp.Subquery, exp.DDL, exp.DML, exp.Command, exp.Star, exp.Placeholder,
              exp.Parameter, exp.Table, exp.Alias)  # fmt: skip
    for node in tree.walk():
        if isinstance(node, banned):
            _refuse(text, f"a {type(node).__name__.lower()}", asset, manager)
        if isinstance(node, exp.Column) and node.table:
            _refuse(text, f"a qualified column {node.sql()!r}", asset, manager)
    if isinstance(tree, exp.Column):
        return PartitionExpr(tree.name, dialect, quoted=bool(tree.this.quoted))
    if not any(True for _ in tree.find_all(exp.Column)):
        _refuse(text, "no column", asset, manager)
    return PartitionExpr(text, dialect, tree=tree)


def _refuse(text: str, what: str, asset: str, manager: str) -> None:
    where = f"asset {asset!r} ({manager}): " if asset else ""
    msg = (
        f"{where}partition_expr {text!r} is refused: it holds {what} (one expression over the "
        "table's columns is expected)"
    )
    raise DefinitionError(msg, asset=asset or None, io_manager=manager or None,
                          expected="one SQL expression over columns", got=text)  # fmt: skip
