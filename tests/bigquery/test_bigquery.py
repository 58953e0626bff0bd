"""wharf.bigquery against bqemulator: names, fidelity, atomicity, config and credentials."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import wharf as dg
from tests.warehouse_fixtures import unique_name
from wharf._stores.base import TableRef
from wharf.bigquery import (
    BigQueryIOManager,
    BigQueryPandasIOManager,
    BigQueryPySparkIOManager,
    BigQueryResource,
)
from wharf.errors import ConfigError, StorageError, StoredValueNotFoundError
from wharf.testing.bigquery import BigQueryEmulator


@pytest.fixture
def dataset() -> str:
    return unique_name("bq")


@pytest.fixture
def io(bigquery_server: BigQueryEmulator, dataset: str) -> BigQueryIOManager:
    return BigQueryIOManager(**bigquery_server.config(dataset))


def _store_and_load(io: Any, value: Any, annotation: Any, name: str = "t") -> Any:
    seen: list[Any] = []

    def produce():  # type: ignore[no-untyped-def]
        return value

    def consume(t):  # type: ignore[no-untyped-def]
        seen.append(t)

    consume.__annotations__ = {"t": annotation, "return": None}
    ins = {"t": dg.AssetIn(key=name)}
    assets = [dg.asset(name=name)(produce), dg.asset(name="consume", ins=ins)(consume)]
    result = dg.materialize(assets, resources={"io_manager": io})
    assert result.success
    return seen[0], result


def test_mixed_case_and_unicode_column_names_round_trip(
    io: BigQueryIOManager, bigquery_server: BigQueryEmulator, dataset: str
) -> None:
    df = pd.DataFrame({"userId": [1, 2], "näme": ["a", None], "select": [1.5, 2.5]})
    got, _ = _store_and_load(io, df, pd.DataFrame, "MixedCase")
    pd.testing.assert_frame_equal(got, df)
    client = bigquery_server.client()
    table = client.get_table(f"{bigquery_server.project}.{dataset}.MixedCase")
    assert [f.name for f in table.schema] == ["userId", "näme", "select"]
    client.close()


def test_metadata_keys(
    io: BigQueryIOManager, bigquery_server: BigQueryEmulator, dataset: str
) -> None:
    _, result = _store_and_load(io, pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), pd.DataFrame)
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert {"row_count", "schema", "table", "duration_s"} <= set(meta)
    assert meta["row_count"].value == 2
    assert meta["table"].value == f"`{bigquery_server.project}`.`{dataset}`.`t`"
    assert list(meta["schema"].value) == ["a", "b"]


def test_time_zones_and_nulls_kept(io: BigQueryIOManager) -> None:
    stamps = pd.to_datetime(
        ["2024-01-01 12:00", None, "2024-07-01 08:30:00.123456"], format="ISO8601"
    ).as_unit("us")
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


def test_nanoseconds_fail_the_write_instead_of_being_cut(io: BigQueryIOManager) -> None:
    df = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01 00:00:00.000000001"]).as_unit("ns")})
    with pytest.raises(StorageError, match="would lose data"):
        io.table_store().write(TableRef("public", "ns"), pa.table(df).to_reader())


def test_empty_frame_keeps_columns_and_projection(io: BigQueryIOManager) -> None:
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
    io: BigQueryIOManager, bigquery_server: BigQueryEmulator, dataset: str
) -> None:
    _store_and_load(io, pa.table({"a": [1, 2, 3]}), pa.Table)
    store = io.table_store()
    ref = TableRef(dataset, "t")

    def broken() -> Any:
        yield pa.record_batch({"a": [9]})
        raise RuntimeError("source died")

    with pytest.raises(RuntimeError, match="source died"):
        store.write(ref, pa.RecordBatchReader.from_batches(pa.schema({"a": pa.int64()}), broken()))
    # a server-side failure after staging: the stage is dropped, the old table stays
    bad = pa.table({"a": pa.array([[[1]]])})  # a list of lists: BigQuery has no such column
    with pytest.raises(StorageError, match="list of lists"):
        store.write(ref, bad.to_reader())
    assert store.read(ref).read_all().column("a").to_pylist() == [1, 2, 3]
    client = bigquery_server.client()
    names = [t.table_id for t in client.list_tables(f"{bigquery_server.project}.{dataset}")]
    client.close()
    assert names == ["t"]


def test_a_wide_table_keeps_its_schema_zipped_in_the_description(
    io: BigQueryIOManager, bigquery_server: BigQueryEmulator, dataset: str
) -> None:
    # the plain schema text would pass BigQuery's 16,384-character description limit
    df = pd.DataFrame({f"column_with_a_long_name_{i:03d}": [i] for i in range(150)})
    df["paris"] = pd.to_datetime(["2024-01-01"]).tz_localize("Europe/Paris").as_unit("us")
    got, _ = _store_and_load(io, df, pd.DataFrame)
    pd.testing.assert_frame_equal(got, df)
    client = bigquery_server.client()
    description = client.get_table(f"{bigquery_server.project}.{dataset}.t").description
    client.close()
    assert description.startswith("wharf.arrow-schema.v1z:")
    assert len(description) <= 16_384


def test_loading_a_never_stored_asset_names_it(io: BigQueryIOManager) -> None:
    with pytest.raises(StoredValueNotFoundError, match="never"):
        io.table_store().read(TableRef("nowhere", "never"))


def test_resource_gives_a_client(bigquery_server: BigQueryEmulator) -> None:
    resource = BigQueryResource(
        project=bigquery_server.project, api_endpoint=bigquery_server.api_endpoint
    )
    with resource.get_client() as client:
        assert [tuple(r.values()) for r in client.query("SELECT 1 + 1").result()] == [(2,)]


def test_presets_differ_only_in_the_default_load_type() -> None:
    assert BigQueryPandasIOManager.default_load_type == "pandas"
    assert BigQueryPySparkIOManager.default_load_type == "pyspark"
    assert issubclass(BigQueryPySparkIOManager, BigQueryIOManager)


def test_unknown_field_is_an_error() -> None:
    with pytest.raises(ConfigError, match="did you mean 'dataset'"):
        BigQueryIOManager(project="p", datset="d")  # type: ignore[call-arg]


def test_gcp_credentials_are_base64_service_account_json() -> None:
    from wharf.bigquery import _credentials

    with pytest.raises(ConfigError, match="base64 of a service account"):
        _credentials(BigQueryResource(gcp_credentials="not base64!"))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    key = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "1",
        "private_key": pem,
        "client_email": "wharf@p.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    encoded = base64.b64encode(json.dumps(key).encode()).decode()
    credentials = _credentials(BigQueryResource(gcp_credentials=encoded))
    assert credentials.service_account_email == "wharf@p.iam.gserviceaccount.com"


def test_pyspark_preset_loads_unannotated_inputs_as_spark(
    spark: Any, bigquery_server: BigQueryEmulator, dataset: str
) -> None:
    io = BigQueryPySparkIOManager(**bigquery_server.config(dataset))
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
