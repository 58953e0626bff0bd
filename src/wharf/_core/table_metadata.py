"""Table metadata: ``TableSchema``, ``TableColumn``, ``TableRecord`` (Dagster's names), and the
standard keys every I/O manager reports for a table it stores.

Every table store reports the same keys: wharf's ``row_count``, ``schema`` (column -> type),
``bytes`` (where known), ``duration_s``, and Dagster's ``dagster/row_count``,
``dagster/column_schema`` (a :class:`TableSchema`) and ``dagster/table_name`` (SQL stores) or
``dagster/uri`` (files and object stores). :func:`standard_table_metadata` builds them in one
place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TableColumnConstraints:
    """What a column's values must satisfy."""

    nullable: bool = True
    unique: bool = False
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableConstraints:
    """Constraints of a whole table, as free text."""

    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableColumn:
    """One column of a :class:`TableSchema`."""

    name: str
    type: str = "string"
    description: str | None = None
    constraints: TableColumnConstraints = field(default_factory=TableColumnConstraints)
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.description:
            out["description"] = self.description
        if self.constraints != TableColumnConstraints():
            c = self.constraints
            out["constraints"] = {
                "nullable": c.nullable,
                "unique": c.unique,
                "other": list(c.other),
            }
        return out


@dataclass(frozen=True)
class TableSchema:
    """The columns of a table (and its constraints).

    Examples:
        >>> schema = TableSchema.from_name_type_dict({"id": "int64", "name": "string"})
        >>> [c.name for c in schema.columns], schema.to_json()[0]
        (['id', 'name'], {'name': 'id', 'type': 'int64'})
    """

    columns: Sequence[TableColumn] = ()
    constraints: TableConstraints = field(default_factory=TableConstraints)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))

    @staticmethod
    def from_name_type_dict(name_type_dict: Mapping[str, str]) -> TableSchema:
        return TableSchema([TableColumn(n, str(t)) for n, t in name_type_dict.items()])

    def to_json(self) -> list[dict[str, Any]]:
        """The columns as run history keeps them: ``[{"name": ..., "type": ...}, ...]``."""
        return [c.to_json() for c in self.columns]


@dataclass(frozen=True)
class TableRecord:
    """One row of a ``MetadataValue.table``."""

    data: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)


def standard_table_metadata(
    row_count: int | None,
    columns: Mapping[str, str] | None,
    *,
    table_name: str | None = None,
    uri: str | None = None,
) -> dict[str, Any]:
    """Dagster's standard keys for a stored table (values are ``MetadataValue``s)."""
    from wharf._core.results import MetadataValue

    out: dict[str, Any] = {}
    if row_count is not None:
        out["dagster/row_count"] = MetadataValue.int(row_count)
    if columns is not None:
        out["dagster/column_schema"] = MetadataValue.table_schema(
            TableSchema.from_name_type_dict(columns)
        )
    if table_name is not None:
        out["dagster/table_name"] = MetadataValue.text(table_name)
    if uri is not None:
        out["dagster/uri"] = MetadataValue.url(uri)
    return out
