"""The store rows of the conformance suite.

``LOCAL_STORES`` need no server: DuckDB, SQLite, Delta Lake, local files, memory. The SQL
stores' rows come from the store registry (:data:`SQL_STORES`). ``OBJECT_STORES`` are S3, GCS and
Azure through ``ObjectStoreIOManager``, each against the local server its ``fixture`` starts
(see :mod:`wharf.testing.servers`); every test writes under its own prefix.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wharf._stores.registry import STORES, StoreRow
from wharf.errors import StorageError
from wharf.testing.conformance import CHECKS, StoreCase

_MEMORY: dict[Path, Any] = {}
#: the file and object-store managers: ``keep_versions=N`` keeps the last N values
_BLOBS = frozenset({"projection", "crash_atomic", "keep_versions"})
#: stores of whole values refuse write_mode append / merge (the check's first append fails)
_WHOLE_VALUES: dict[str, type[BaseException]] = {"write_modes": AssertionError}


def _filesystem(tmp: Path) -> Any:
    import wharf

    return wharf.FilesystemIOManager(base_dir=str(tmp / "storage"))


def _memory(tmp: Path) -> Any:
    """One InMemoryIOManager per test folder, so writes and reads of one test share it."""
    import wharf

    return _MEMORY.setdefault(tmp, wharf.InMemoryIOManager())


_DELTA = frozenset(
    {"projection", "crash_atomic", "microsecond_timestamps", "versions", "write_modes"}
)


def _deltalake(tmp: Path) -> Any:
    from wharf.deltalake import DeltaLakeIOManager

    return DeltaLakeIOManager(root_uri=str(tmp / "delta"))


def _iceberg(tmp: Path) -> Any:
    """IcebergIOManager on its embedded catalog: SQLite beside a local warehouse folder."""
    from wharf.iceberg import IcebergIOManager

    return IcebergIOManager(warehouse=str(tmp / "iceberg"))


def _starter(path: str) -> Callable[[], Any]:
    """The function ``"module:function"`` names, imported when called."""

    def start() -> Any:
        module, name = path.split(":")
        return getattr(importlib.import_module(module), name)()

    return start


def _sql_case(row: StoreRow) -> StoreCase:
    """The conformance row of a table store's registry row."""

    def build(tmp: Path, *, server: Any = None) -> Any:
        manager = getattr(importlib.import_module(row.module), row.manager)
        return manager(**row.test_config(tmp, server))

    return StoreCase(
        row.name, build, capabilities=row.capabilities, fixture=row.fixture,
        server=_starter(row.server) if row.server else None, nul_in_text=row.nul_in_text,
        floats=row.floats,
    )  # fmt: skip


#: every SQL table store of the registry (:mod:`wharf._stores.registry`), in its order
SQL_STORES: tuple[StoreCase, ...] = tuple(_sql_case(row) for row in STORES)

LOCAL_STORES: tuple[StoreCase, ...] = (
    *(case for case in SQL_STORES if case.server is None),
    StoreCase("deltalake", _deltalake, capabilities=_DELTA),
    StoreCase("iceberg", _iceberg, capabilities=_DELTA),
    StoreCase(
        "filesystem", _filesystem, capabilities=_BLOBS, tables_only=False, lacks=_WHOLE_VALUES
    ),
    StoreCase("memory", _memory, tables_only=False, lacks=_WHOLE_VALUES),
)

#: the SQL stores whose test servers the suite starts (PostgreSQL: Debian's server on a loopback
#: port; Snowflake: fakesnow; BigQuery: bqemulator), each test in a schema, database or dataset
#: of its own. PostgreSQL's text type cannot hold NUL, so its property checks generate strings
#: without it.
SERVER_STORES: tuple[StoreCase, ...] = tuple(c for c in SQL_STORES if c.server is not None)


def _object_store(scheme: str) -> Any:
    def build(tmp: Path, *, server: Any) -> Any:
        from wharf._io.object_store import ObjectStoreIOManager

        base = f"{scheme}://wharf/{tmp.name}"
        return ObjectStoreIOManager(base_path=base, storage_options=server.storage_options())

    return build


def _deltalake_s3(tmp: Path, *, server: Any) -> Any:
    """DeltaLakeIOManager on the moto server (one writer per table: unsafe rename allowed)."""
    from wharf.deltalake import DeltaLakeIOManager

    options = {
        "AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
    }  # fmt: skip
    return DeltaLakeIOManager(root_uri=f"s3://wharf/{tmp.name}", storage_options=options)


def _iceberg_s3(tmp: Path, *, server: Any) -> Any:
    """IcebergIOManager with its warehouse on the moto server, its SQL catalog a local SQLite."""
    from wharf.iceberg import IcebergIOManager

    catalog = {
        "type": "sql", "uri": f"sqlite:///{tmp}/catalog.db", "s3.endpoint": server.url,
        "s3.access-key-id": "testing", "s3.secret-access-key": "testing",
        "s3.region": "us-east-1",
    }  # fmt: skip
    return IcebergIOManager(warehouse=f"s3://wharf/{tmp.name}-iceberg", catalog=catalog)


def _deltalake_gcs(tmp: Path, *, server: Any) -> Any:
    """DeltaLakeIOManager on fake-gcs-server, pointed at it by object_store's documented
    emulator setting: a service-account key with ``gcs_base_url`` and ``disable_oauth``."""
    from wharf.deltalake import DeltaLakeIOManager

    return DeltaLakeIOManager(root_uri=f"gs://wharf/{tmp.name}", storage_options=_gcs_key(server))


def _gcs_key(server: Any) -> dict[str, str]:
    """object_store (delta-rs, polars) options for fake-gcs-server: no OAuth, its URL."""
    import json

    key = {"gcs_base_url": server.url, "disable_oauth": True, "client_email": "",
           "private_key": "", "private_key_id": ""}  # fmt: skip
    return {"google_service_account_key": json.dumps(key), "allow_http": "true"}


def _azurite(server: Any) -> dict[str, str]:
    """object_store (delta-rs, polars) options for Azurite: its account, key and URL."""
    from wharf.testing.servers import AZURITE_ACCOUNT, AZURITE_KEY

    return {
        "azure_storage_account_name": AZURITE_ACCOUNT, "azure_storage_account_key": AZURITE_KEY,
        "azure_endpoint": f"{server.url}/{AZURITE_ACCOUNT}", "allow_http": "true",
    }  # fmt: skip


def _deltalake_azure(tmp: Path, *, server: Any) -> Any:
    """DeltaLakeIOManager on Azurite (its blob endpoint, over http)."""
    from wharf.deltalake import DeltaLakeIOManager

    return DeltaLakeIOManager(root_uri=f"az://wharf/{tmp.name}", storage_options=_azurite(server))


def _iceberg_gcs(tmp: Path, *, server: Any) -> Any:
    """IcebergIOManager with its warehouse on fake-gcs-server through pyiceberg's fsspec FileIO
    (gcsfs; pyarrow's GCS client stalls on the stand-in), its SQL catalog a local SQLite."""
    from wharf.iceberg import IcebergIOManager

    catalog = {
        "type": "sql", "uri": f"sqlite:///{tmp}/catalog.db",
        "py-io-impl": "pyiceberg.io.fsspec.FsspecFileIO", "gcs.service.host": server.url,
        "gcs.project-id": "test", "gcs.oauth2.token": "anon",
    }  # fmt: skip
    return IcebergIOManager(
        warehouse=f"gs://wharf/{tmp.name}-iceberg", catalog=catalog, scan_options=_gcs_key(server)
    )


def _iceberg_azure(tmp: Path, *, server: Any) -> Any:
    """IcebergIOManager with its warehouse on Azurite through pyiceberg's fsspec FileIO
    (adlfs), its SQL catalog a local SQLite."""
    from wharf.iceberg import IcebergIOManager
    from wharf.testing.servers import AZURITE_ACCOUNT

    catalog = {
        "type": "sql", "uri": f"sqlite:///{tmp}/catalog.db",
        "py-io-impl": "pyiceberg.io.fsspec.FsspecFileIO",
        "adls.connection-string": server.connection_string(), "adls.account-name": AZURITE_ACCOUNT,
    }  # fmt: skip
    return IcebergIOManager(
        warehouse=f"abfs://wharf/{tmp.name}-iceberg", catalog=catalog,
        scan_options=_azurite(server),
    )  # fmt: skip


OBJECT_STORES: tuple[StoreCase, ...] = (
    StoreCase(
        "deltalake-s3",
        _deltalake_s3,
        fixture="s3_server",
        capabilities=_DELTA,
    ),
    StoreCase("iceberg-s3", _iceberg_s3, fixture="s3_server", capabilities=_DELTA),
    StoreCase(
        "deltalake-gcs",
        _deltalake_gcs,
        fixture="gcs_server",
        capabilities=_DELTA | {"standin_gcs_json_api_only"},
    ),
    StoreCase(
        "deltalake-azure",
        _deltalake_azure,
        fixture="azure_server",
        capabilities=_DELTA | {"standin_delta_third_commit"},
    ),
    StoreCase("iceberg-gcs", _iceberg_gcs, fixture="gcs_server", capabilities=_DELTA),
    StoreCase("iceberg-azure", _iceberg_azure, fixture="azure_server", capabilities=_DELTA),
    StoreCase(
        "s3",
        _object_store("s3"),
        capabilities=_BLOBS,
        tables_only=False,
        fixture="s3_server",
        lacks=_WHOLE_VALUES,
    ),
    StoreCase(
        "gcs",
        _object_store("gs"),
        capabilities=_BLOBS,
        tables_only=False,
        fixture="gcs_server",
        lacks=_WHOLE_VALUES,
    ),
    StoreCase(
        "azure",
        _object_store("abfs"),
        capabilities=_BLOBS,
        tables_only=False,
        fixture="azure_server",
        lacks=_WHOLE_VALUES,
    ),
)


#: every check that stores a value (all but ``errors``, which stores none that succeeds), the
#: property checks (hypothesis) included
_STORING = frozenset(c.name for c in CHECKS) - {"errors"} | {"pandas_property", "polars_property"}
#: the checks that write a table at most twice (pass on deltalake-azure, whose gap is the rest)
_WRITES_TWICE_AT_MOST = frozenset({
    "column_order", "crash_atomicity", "empty", "empty_categories", "interrupt", "nanoseconds",
    "overwrite", "pandas_column_labels", "pandas_index", "pandas_zero_columns",
    "partitions_crash_atomicity", "partitions_dynamic_keys", "partitions_load_dict",
    "partitions_missing", "partitions_rows_outside", "partitions_schema_change", "projection",
    "round_trip", "schema_change",
})  # fmt: skip
#: a failed write shows as a failed run (AssertionError), a StorageError, or (property checks)
#: hypothesis' group of them
_WRITE_FAILS = (AssertionError, StorageError, ExceptionGroup)

#: Known gaps: a trait a row lists among its ``capabilities`` -> the checks it makes fail and
#: the exception they raise. The conformance test marks those xfail (strict), never skip.
KNOWN_GAPS: dict[
    str, tuple[frozenset[str], type[BaseException] | tuple[type[BaseException], ...]]
] = {
    # a NULL list reads back as [] (BigQuery's ARRAYs are never NULL)
    "lists_never_null": (frozenset({"polars_property"}), AssertionError),
    # the stand-in, not the store: fakesnow keeps TIMESTAMP_NTZ(9) in a DuckDB TIMESTAMP (us)
    "standin_cuts_nanoseconds": (frozenset({"nanoseconds"}), AssertionError),
    # the stand-in, not the store: fake-gcs-server implements GCS's JSON upload API only, and
    # answers the XML API's object PUT, which delta-rs writes through (object_store), with
    # "400 invalid uploadType"; every check's first write fails (a real bucket takes it)
    "standin_gcs_json_api_only": (_STORING, _WRITE_FAILS),
    # delta-rs 1.6 on Azurite: a table's third commit fails with "Invalid table version: 1"
    # (the second commit's log file is listed by the blob API, delta-rs does not find it;
    # delta-rs issues 3716 and 3824 report writes failing on the emulator and on az:// since
    # 1.1). One or two writes work: round trips, projection, empty frames, crash atomicity and
    # schema change pass; every other storing check writes a table three times or more
    "standin_delta_third_commit": (_STORING - _WRITES_TWICE_AT_MOST, _WRITE_FAILS),
}


def known_gaps(
    case: StoreCase, check: str
) -> list[tuple[str, type[BaseException] | tuple[type[BaseException], ...]]]:
    """The known gaps of ``case``'s row that make ``check`` fail: each trait and the exception
    it raises (the conformance test marks them strict xfails)."""
    return [
        (trait, raises)
        for trait, (checks, raises) in KNOWN_GAPS.items()
        if trait in case.capabilities and check in checks
    ]
