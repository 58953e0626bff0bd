"""wharf.snowflake against fakesnow's server: names, fidelity, atomicity, config and auth."""

from __future__ import annotations

import base64
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import wharf as dg
from tests.warehouse_fixtures import store_and_load, unique_name
from wharf.errors import ConfigError, StoredValueNotFoundError
from wharf.snowflake import SnowflakeIOManager, SnowflakePandasIOManager, SnowflakeResource
from wharf.testing.snowflake import FakeSnowflake


@pytest.fixture
def database() -> str:
    return unique_name("SF").upper()  # as Snowflake names an unquoted database


@pytest.fixture
def io(fakesnow_server: FakeSnowflake, database: str) -> SnowflakeIOManager:
    return SnowflakeIOManager(**fakesnow_server.config(database))


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
    got, _ = store_and_load(io, df, pd.DataFrame)
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
    _, result = store_and_load(io, pd.DataFrame({"a": [1, 2, 3]}), pd.DataFrame, "daily_total")
    event = result.get_asset_materialization_events()[0]
    assert event.materialization.metadata["table"].value == f'"{database}"."PUBLIC"."DAILY_TOTAL"'
    # plain SQL, no quotes, finds it
    assert _sql(fakesnow_server, database, "SELECT count(*) FROM public.daily_total") == [(3,)]


def test_a_failed_write_keeps_the_old_table_and_leaves_no_stage(
    io: SnowflakeIOManager, fakesnow_server: FakeSnowflake, database: str
) -> None:
    store_and_load(io, pa.table({"a": [1, 2, 3]}), pa.Table)
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
    got, _ = store_and_load(io, df, pd.DataFrame)
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
    got, _ = store_and_load(io, pd.DataFrame({"a": [1]}), Any)
    assert isinstance(got, pd.DataFrame)


def test_resource_gives_a_connector_connection(
    fakesnow_server: FakeSnowflake, database: str
) -> None:
    resource = SnowflakeResource(**fakesnow_server.config(database), schema="PUBLIC")
    with resource.get_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 + 1")
        assert cur.fetchall() == [(2,)]


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


def test_plain_names_that_differ_only_in_case_are_refused_before_the_run() -> None:
    # Snowflake folds a plain name to upper case, so Casey and casey are one table CASEY; a
    # name that is not plain (a dash) is kept exactly, and differs by case from another
    from wharf.errors import DefinitionError

    @dg.asset(name="Casey")
    def upper() -> pd.DataFrame:
        return pd.DataFrame({"v": [1]})

    @dg.asset(name="casey")
    def lower() -> pd.DataFrame:
        return pd.DataFrame({"v": [2]})

    io = SnowflakeIOManager(account="a", user="u", password="p", database="D", schema="S")
    with pytest.raises(DefinitionError, match=r"'Casey' and 'casey' would both be stored"):
        dg.materialize([upper, lower], resources={"io_manager": io})
    outputs = [(dg.AssetKey("Sales-1"), {}), (dg.AssetKey("sales-1"), {})]
    io.check_outputs(outputs)  # quoted exactly: two tables
