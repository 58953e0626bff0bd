"""wharf.bigquery against bqemulator: names, fidelity, atomicity, config and credentials."""

from __future__ import annotations

import base64
import json
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import wharf as dg
from tests.warehouse_fixtures import store_and_load, unique_name
from wharf._stores.base import TableRef
from wharf.bigquery import BigQueryIOManager, BigQueryResource
from wharf.errors import ConfigError, StorageError, StoredValueNotFoundError
from wharf.testing.bigquery import BigQueryEmulator


@pytest.fixture
def dataset() -> str:
    return unique_name("bq")


@pytest.fixture
def io(bigquery_server: BigQueryEmulator, dataset: str) -> BigQueryIOManager:
    return BigQueryIOManager(**bigquery_server.config(dataset))


def test_mixed_case_and_unicode_column_names_round_trip(
    io: BigQueryIOManager, bigquery_server: BigQueryEmulator, dataset: str
) -> None:
    df = pd.DataFrame({"userId": [1, 2], "näme": ["a", None], "select": [1.5, 2.5]})
    got, _ = store_and_load(io, df, pd.DataFrame, "MixedCase")
    pd.testing.assert_frame_equal(got, df)
    client = bigquery_server.client()
    table = client.get_table(f"{bigquery_server.project}.{dataset}.MixedCase")
    assert [f.name for f in table.schema] == ["userId", "näme", "select"]
    client.close()


def test_nanoseconds_fail_the_write_instead_of_being_cut(io: BigQueryIOManager) -> None:
    df = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01 00:00:00.000000001"]).as_unit("ns")})
    with pytest.raises(StorageError, match="refused rather than cut"):
        io.table_store().write(TableRef("public", "ns"), pa.table(df).to_reader())


def test_a_failed_write_keeps_the_old_table_and_leaves_no_stage(
    io: BigQueryIOManager, bigquery_server: BigQueryEmulator, dataset: str
) -> None:
    store_and_load(io, pa.table({"a": [1, 2, 3]}), pa.Table)
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
    got, _ = store_and_load(io, df, pd.DataFrame)
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


def test_datasets_that_differ_only_in_case_are_refused_before_the_run() -> None:
    from wharf.errors import DefinitionError

    @dg.asset(key=["Raw", "orders"])
    def upper() -> pd.DataFrame:
        return pd.DataFrame({"v": [1]})

    @dg.asset(key=["raw", "orders"])
    def lower() -> pd.DataFrame:
        return pd.DataFrame({"v": [2]})

    io = BigQueryIOManager(project="p")
    with pytest.raises(DefinitionError, match=r"'Raw/orders' and 'raw/orders' would both be"):
        dg.materialize([upper, lower], resources={"io_manager": io})
    io.check_outputs([(dg.AssetKey(["raw", "Orders"]), {}), (dg.AssetKey(["raw", "orders"]), {})])
