"""The store rows of the conformance suite that need no server: DuckDB, local files, memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wharf.testing.conformance import StoreCase

_MEMORY: dict[Path, Any] = {}


def _duckdb(tmp: Path) -> Any:
    from wharf.duckdb import DuckDBIOManager

    return DuckDBIOManager(database=str(tmp / "conformance.duckdb"), schema="public")


def _filesystem(tmp: Path) -> Any:
    import wharf

    return wharf.FilesystemIOManager(base_dir=str(tmp / "storage"))


def _memory(tmp: Path) -> Any:
    """One InMemoryIOManager per test folder, so writes and reads of one test share it."""
    import wharf

    return _MEMORY.setdefault(tmp, wharf.InMemoryIOManager())


LOCAL_STORES: tuple[StoreCase, ...] = (
    StoreCase("duckdb", _duckdb),
    StoreCase("filesystem", _filesystem, tables_only=False),
    StoreCase("memory", _memory, tables_only=False),
)
