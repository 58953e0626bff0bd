"""wharf.snowflake against fakesnow's server: names, fidelity, atomicity, config and auth."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import wharf as dg
from tests.warehouse_fixtures import unique_name
from wharf.errors import ConfigError, StoredValueNotFoundError
from wharf.snowflake import (
    SnowflakeIOManager,
    SnowflakePandasIOManager,
    SnowflakePySparkIOManager,
    SnowflakeResource,
)
from wharf.testing.snowflake import FakeSnowflake


@pytest.fixture
def database() -> str:
    return unique_name("SF").upper()  # as Snowflake names an unquoted database


@pytest.fixture
def io(fakesnow_server: FakeSnowflake, database: str) -> SnowflakeIOManager:
    return SnowflakeIOManager(**fakesnow_server.config(database))


def _store_and_load(io: Any, value: Any, annotation: Any, name: str = "t", **asset: Any) -> Any:
    seen: list[Any] = []

    def produce():  # type: ignore[no-untyped-def]
        return value

    def consume(t):  # type: ignore[no-untyped-def]
        seen.append(t)

    consume.__annotations__ = {"t": annotation, "return": None}
    ins = {"t": dg.AssetIn(key=name)}
    assets = [dg.asset(name=name, **asset)(produce), dg.asset(name="consume", ins=ins)(consume)]
    result = dg.materialize(assets, resources={"io_manager": io})
    assert result.success
    return seen[0], result


def _sql(snow: FakeSnowflake, database: str, sql: str) -> list[tuple[Any, ...]]:
    con = snow.connect(database)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        con.close()


def test_mixed_case_and_unicode_column_names_round_trip(
    io: SnowflakeIOManager, fakesnow_server: FakeSnowflake, database: str
) -> None:
    df = pd.DataFrame({"userId": [1, 2], "näme ✓": ["a", None], "select": [1.5, 2.5], "ID": [7, 8]})
    got, _ = _store_and_load(io, df, pd.DataFrame)
    pd.testing.assert_frame_equal(got, df)
    columns = _sql(
        fakesnow_server,
        database,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'T' "
        "ORDER BY ordinal_position",
    )
    assert [c[0] for c in columns] == ["userId", "näme ✓", "select", "ID"]


def test_plain_names_are_upper_cased_like_unquoted_snowflake_names(
    io: SnowflakeIOManager, fakesnow_server: FakeSnowflake, database: str
) -> None:
    _, result = _store_and_load(io, pd.DataFrame({"a": [1, 2, 3]}), pd.DataFrame, "daily_total")
    event = result.get_asset_materialization_events()[0]
    assert event.materialization.metadata["table"].value == f'"{database}"."PUBLIC"."DAILY_TOTAL"'
    # plain SQL, no quotes, finds it
    assert _sql(fakesnow_server, database, "SELECT count(*) FROM public.daily_total") == [(3,)]


def test_metadata_keys(io: SnowflakeIOManager, database: str) -> None:
    _, result = _store_and_load(io, pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), pd.DataFrame)
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert {"row_count", "schema", "table", "duration_s"} <= set(meta)
    assert meta["row_count"].value == 2
    assert meta["table"].value == f'"{database}"."PUBLIC"."T"'
    assert list(meta["schema"].value) == ["a", "b"]


def test_time_zones_and_nulls_kept(io: SnowflakeIOManager) -> None:
    stamps = pd.to_datetime(
        ["2024-01-01 12:00", None, "2024-07-01 08:30:00.123456"], format="ISO8601"
    )
    df = pd.DataFrame(
        {
            "paris": stamps.tz_localize("Europe/Paris"),
            "utc": stamps.tz_localize("UTC"),
            "naive": stamps,
            "day": pd.Series([dt.date(2024, 1, 1), None, dt.date(1, 1, 1)], dtype=object),
        }
    )
    got, _ = _store_and_load(io, df, pd.DataFrame)
    pd.testing.assert_frame_equal(got, df)
    polars_df = pl.DataFrame({"tokyo": [dt.datetime(2024, 1, 1), None]}).with_columns(
        pl.col("tokyo").dt.replace_time_zone("Asia/Tokyo")
    )
    got_pl, _ = _store_and_load(io, polars_df, pl.DataFrame, "t2")
    assert got_pl.equals(polars_df)
    assert got_pl.schema == polars_df.schema


def test_empty_frame_keeps_columns_and_projection(io: SnowflakeIOManager) -> None:
    empty = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())})
    got, _ = _store_and_load(io, empty, pa.Table)
    assert got.schema == empty.schema
    assert got.num_rows == 0

    seen: list[Any] = []

    @dg.asset
    def wide() -> pd.DataFrame:
        return pd.DataFrame({"a": [1], "b": ["x"], "c": [2.5]})

    @dg.asset(ins={"wide": dg.AssetIn(metadata={"columns": ["c", "a"]})})
    def narrow(wide: pd.DataFrame) -> None:
        seen.append(wide)

    assert dg.materialize([wide, narrow], resources={"io_manager": io}).success
    assert list(seen[0].columns) == ["c", "a"]


def test_a_failed_write_keeps_the_old_table_and_leaves_no_stage(
    io: SnowflakeIOManager, fakesnow_server: FakeSnowflake, database: str
) -> None:
    _store_and_load(io, pa.table({"a": [1, 2, 3]}), pa.Table)
    store = io.table_store()
    from wharf._stores.base import TableRef

    ref = TableRef("public", "t")

    def broken() -> Any:
        yield pa.record_batch({"a": [9]})
        raise RuntimeError("source died")

    with pytest.raises(RuntimeError, match="source died"):  # the source's own error
        store.write(ref, pa.RecordBatchReader.from_batches(pa.schema({"a": pa.int64()}), broken()))
    assert store.read(ref).read_all().column("a").to_pylist() == [1, 2, 3]
    tables = _sql(fakesnow_server, database, "SELECT table_name FROM information_schema.tables")
    assert [t for (t,) in tables if t.startswith("__wharf")] == []


def test_store_timestamps_as_strings(fakesnow_server: FakeSnowflake, database: str) -> None:
    io = SnowflakeIOManager(**fakesnow_server.config(database), store_timestamps_as_strings=True)
    df = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01", None]).tz_localize("Europe/Paris")})
    got, _ = _store_and_load(io, df, pd.DataFrame)
    pd.testing.assert_frame_equal(got, df)
    kinds = _sql(
        fakesnow_server,
        database,
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'T'",
    )
    assert kinds == [("TEXT",)]


def test_loading_a_never_stored_asset_names_it(io: SnowflakeIOManager) -> None:
    from wharf._stores.base import TableRef

    with pytest.raises(StoredValueNotFoundError, match="NEVER"):
        io.table_store().read(TableRef("public", "never"))


def test_seed_style_env_vars_resolve_at_run_time(
    fakesnow_server: FakeSnowflake, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in fakesnow_server.env(database).items():
        monkeypatch.setenv(name, value)
    io = SnowflakePandasIOManager(
        database=dg.EnvVar("SNOWFLAKE_DATABASE"),
        account=dg.EnvVar("SNOWFLAKE_ACCOUNT"),
        user=dg.EnvVar("SNOWFLAKE_USER"),
        password=dg.EnvVar("SNOWFLAKE_PASSWORD"),
    )
    assert "'snow'" not in repr(io)
    got, _ = _store_and_load(io, pd.DataFrame({"a": [1]}), Any)
    assert isinstance(got, pd.DataFrame)


def test_resource_gives_a_connector_connection(
    fakesnow_server: FakeSnowflake, database: str
) -> None:
    resource = SnowflakeResource(**fakesnow_server.config(database), schema="PUBLIC")
    with resource.get_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 + 1")
        assert cur.fetchall() == [(2,)]


def test_presets_differ_only_in_the_default_load_type() -> None:
    assert SnowflakePandasIOManager.default_load_type == "pandas"
    assert SnowflakePySparkIOManager.default_load_type == "pyspark"
    assert issubclass(SnowflakePySparkIOManager, SnowflakeIOManager)


def test_unknown_field_is_an_error() -> None:
    with pytest.raises(ConfigError, match="did you mean 'database'"):
        SnowflakeIOManager(databse="X", account="a", user="u", password="p")  # type: ignore[call-arg]


def test_authentication_is_checked_when_connecting() -> None:
    from wharf.snowflake import _connect_args

    both = SnowflakeResource(account="a", user="u", password="p", private_key="k")
    with pytest.raises(ConfigError, match="not both"):
        _connect_args(both)
    with pytest.raises(ConfigError, match="needs password"):
        _connect_args(SnowflakeResource(account="a", user="u"))
    sso = _connect_args(SnowflakeResource(account="a", user="u", authenticator="externalbrowser"))
    assert sso == {"user": "u", "authenticator": "externalbrowser", "account": "a"}


def test_account_url_points_at_a_host() -> None:
    from wharf.snowflake import _connect_args

    args = _connect_args(
        SnowflakeResource(
            account="https://acme.privatelink.example:8443",
            user="u",
            password="p",
            additional_snowflake_connection_args={"login_timeout": 5},
        )
    )
    assert (args["account"], args["host"], args["port"], args["protocol"]) == (
        "acme", "acme.privatelink.example", 8443, "https",
    )  # fmt: skip
    assert args["login_timeout"] == 5
    with pytest.raises(ConfigError, match="must look like"):
        _connect_args(SnowflakeResource(account="ftp://x", user="u", password="p"))


def test_private_keys_are_read_like_dagster(tmp_path: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from wharf.snowflake import _connect_args

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    path = tmp_path / "rsa_key.p8"
    path.write_bytes(encrypted)
    plain = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    for config in (
        {"private_key": plain},
        {"private_key": base64.b64encode(plain.encode()).decode()},
        {"private_key_path": str(path), "private_key_password": "pw"},
    ):
        args = _connect_args(SnowflakeResource(account="a", user="u", **config))
        assert args["private_key"] == der
        assert "private_key_path" not in args
    with pytest.raises(ConfigError, match="could not load the Snowflake private key"):
        _connect_args(SnowflakeResource(account="a", user="u", private_key="not a key"))


def test_pyspark_preset_loads_unannotated_inputs_as_spark(
    spark: Any, fakesnow_server: FakeSnowflake, database: str
) -> None:
    io = SnowflakePySparkIOManager(**fakesnow_server.config(database))
    seen: list[Any] = []

    @dg.asset
    def events():  # type: ignore[no-untyped-def]
        return spark.createDataFrame(pa.table({"userId": [1, 2], "kind": ["a", None]}))

    @dg.asset
    def counted(events) -> None:  # type: ignore[no-untyped-def]
        seen.append(events)

    assert dg.materialize([events, counted], resources={"io_manager": io}).success
    assert type(seen[0]).__name__ == "DataFrame"
    assert type(seen[0]).__module__.startswith("pyspark")
    assert sorted(seen[0].collect()) == sorted(
        spark.createDataFrame(pa.table({"userId": [1, 2], "kind": ["a", None]})).collect()
    )
