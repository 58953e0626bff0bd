"""wharf.s3, wharf.gcs, wharf.adls2: Dagster's field names, the presets, clients, secrets."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import wharf as dg
from tests.object_stores.fixtures import BUCKET
from wharf.adls2 import (
    ADLS2DefaultAzureCredential,
    ADLS2Key,
    ADLS2PickleIOManager,
    ADLS2Resource,
    ADLS2SASToken,
    ConfigurablePickledObjectADLS2IOManager,
)
from wharf.errors import ConfigError
from wharf.gcs import GCSPickleIOManager, GCSResource
from wharf.s3 import ConfigurablePickledObjectS3IOManager, S3PickleIOManager, S3Resource
from wharf.testing.servers import AZURITE_ACCOUNT, AZURITE_KEY, LocalServer

# dagster-aws 1.x S3Resource / dagster-gcp GCSResource / dagster-azure ADLS2Resource fields
DAGSTER_S3 = {
    "use_unsigned_session", "region_name", "endpoint_url", "max_attempts", "profile_name",
    "use_ssl", "verify", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
}  # fmt: skip
DAGSTER_GCS = {"project", "gcp_credentials"}
DAGSTER_ADLS2 = {"storage_account", "credential"}


@dg.asset
def orders() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "eur": [9.5, 3.0, 1.25]})


@dg.asset
def summary(orders: pd.DataFrame) -> dict[str, float]:
    return {"total": float(orders["eur"].sum())}


def s3_resource(server: LocalServer, **kw: Any) -> S3Resource:
    return S3Resource(
        endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", **kw,
    )  # fmt: skip


def gcs_resource(server: LocalServer) -> GCSResource:
    return GCSResource(project="test", endpoint_url=server.url, anonymous=True)


def adls2_resource(server: LocalServer, key: Any = AZURITE_KEY) -> ADLS2Resource:
    return ADLS2Resource(
        storage_account=AZURITE_ACCOUNT, credential=ADLS2Key(key=key),
        endpoint_url=f"{server.url}/{AZURITE_ACCOUNT}",
    )  # fmt: skip


def test_fields_follow_dagster() -> None:
    assert set(S3Resource.model_fields) >= DAGSTER_S3
    assert set(GCSResource.model_fields) >= DAGSTER_GCS
    assert set(ADLS2Resource.model_fields) >= DAGSTER_ADLS2
    # Dagster's fields and wharf's one addition, keep_versions (off unless set)
    own = {"keep_versions"}
    assert set(S3PickleIOManager.model_fields) - own == {"s3_resource", "s3_bucket", "s3_prefix"}
    assert set(GCSPickleIOManager.model_fields) - own == {"gcs", "gcs_bucket", "gcs_prefix"}
    assert set(ADLS2PickleIOManager.model_fields) - own == {
        "adls2", "adls2_file_system", "adls2_prefix", "lease_duration"
    }  # fmt: skip
    assert S3PickleIOManager(s3_bucket="b").keep_versions is None
    assert S3PickleIOManager(s3_bucket="b").s3_prefix == "dagster"
    assert issubclass(ConfigurablePickledObjectS3IOManager, S3PickleIOManager)
    assert issubclass(ConfigurablePickledObjectADLS2IOManager, ADLS2PickleIOManager)


def test_misspelt_field_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="did you mean 's3_bucket'"):
        S3PickleIOManager(s3_bukcet="b")  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="did you mean 'region_name'"):
        S3Resource(region="eu-west-1")  # type: ignore[call-arg]


def test_s3_preset_round_trip_and_boto3_client(s3_server: LocalServer) -> None:
    io = S3PickleIOManager(s3_resource=s3_resource(s3_server), s3_bucket=BUCKET, s3_prefix="pre3")
    result = dg.materialize([orders, summary], resources={"io_manager": io})
    assert result.asset_value("summary") == {"total": 13.75}
    (mat,) = result.asset_materializations_for_node("orders")
    assert mat.metadata["uri"].value == f"s3://{BUCKET}/pre3/orders.parquet"
    listed = s3_resource(s3_server).get_client().list_objects_v2(Bucket=BUCKET, Prefix="pre3/")
    assert sorted(o["Key"] for o in listed["Contents"]) == ["pre3/orders.parquet", "pre3/summary"]


def test_gcs_preset_round_trip_and_storage_client(gcs_server: LocalServer) -> None:
    io = GCSPickleIOManager(gcs=gcs_resource(gcs_server), gcs_bucket=BUCKET)
    result = dg.materialize([orders, summary], resources={"io_manager": io})
    assert result.asset_value("summary") == {"total": 13.75}
    (mat,) = result.asset_materializations_for_node("orders")
    assert mat.metadata["uri"].value == f"gs://{BUCKET}/dagster/orders.parquet"
    client = gcs_resource(gcs_server).get_client()
    names = sorted(b.name for b in client.list_blobs(BUCKET, prefix="dagster/"))
    assert names == ["dagster/orders.parquet", "dagster/summary"]


def test_adls2_preset_round_trip_and_blob_client(azure_server: LocalServer) -> None:
    io = ConfigurablePickledObjectADLS2IOManager(
        adls2=adls2_resource(azure_server), adls2_file_system=BUCKET, adls2_prefix="pre"
    )
    result = dg.materialize([orders, summary], resources={"io_manager": io})
    assert result.asset_value("summary") == {"total": 13.75}
    (mat,) = result.asset_materializations_for_node("orders")
    assert mat.metadata["uri"].value == f"abfs://{BUCKET}/pre/orders.parquet"
    container = adls2_resource(azure_server).blob_client.get_container_client(BUCKET)
    names = sorted(b.name for b in container.list_blobs(name_starts_with="pre/"))
    assert names == ["pre/orders.parquet", "pre/summary"]


def test_credentials_from_env_vars_are_masked(
    s3_server: LocalServer, azure_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHARF_S3_SECRET", "testing")
    monkeypatch.setenv("WHARF_AZ_KEY", AZURITE_KEY)
    s3 = S3PickleIOManager(
        s3_resource=s3_resource(s3_server).model_copy(
            update={"aws_secret_access_key": dg.EnvVar("WHARF_S3_SECRET")}
        ),
        s3_bucket=BUCKET, s3_prefix="env",
    )  # fmt: skip
    az = ADLS2PickleIOManager(
        adls2=adls2_resource(azure_server, key=dg.EnvVar("WHARF_AZ_KEY")),
        adls2_file_system=BUCKET, adls2_prefix="env",
    )  # fmt: skip
    for io in (s3, az):
        assert "EnvVar(" in repr(io)
        result = dg.materialize([orders, summary], resources={"io_manager": io})
        assert result.asset_value("summary") == {"total": 13.75}
        resolved = io.resolve_env()
        assert AZURITE_KEY not in repr(resolved)
        assert "**********" in repr(resolved)


def test_plain_secrets_are_masked_in_reprs() -> None:
    reprs = [
        repr(S3Resource(aws_access_key_id="AKIAXXX", aws_secret_access_key="sekret")),
        repr(S3Resource(aws_session_token="tok3n")),
        repr(GCSResource(gcp_credentials=base64.b64encode(b'{"private_key": "pk"}').decode())),
        repr(ADLS2Resource(storage_account="a", credential=ADLS2Key(key="k3y"))),
        repr(ADLS2Resource(storage_account="a", credential=ADLS2SASToken(token="sig=zz"))),
    ]
    for text, secret in zip(
        reprs, ["sekret", "tok3n", "cHJpdmF0ZV9rZXk", "k3y", "sig=zz"], strict=True
    ):
        assert secret not in text
        assert "**********" in text


def test_table_format_credentials_are_masked_in_reprs() -> None:
    """Delta Lake's delta-rs options and Iceberg's catalog (pyiceberg) and scan options."""
    from wharf.deltalake import DeltaLakeIOManager
    from wharf.iceberg import IcebergIOManager

    delta = DeltaLakeIOManager(
        root_uri="s3://b/p", storage_options={"AWS_SECRET_ACCESS_KEY": "sekret", "AWS_REGION": "eu"}
    )
    ice = IcebergIOManager(
        warehouse="s3://b/w",
        catalog={"uri": "sqlite:///c.db", "s3.secret-access-key": "sekret2"},
        scan_options={"azure_storage_account_key": "k3y"},
    )
    text = repr(delta) + str(delta) + repr(ice) + str(ice)
    for secret in ("sekret", "sekret2", "k3y"):
        assert secret not in text
    assert "'AWS_REGION': 'eu'" in text
    assert "sqlite:///c.db" in text


def test_adls2_credential_as_config_dict() -> None:
    res = ADLS2Resource(storage_account="acct", credential={"credential_type": "sas", "token": "t"})  # type: ignore[arg-type]
    assert isinstance(res.credential, ADLS2SASToken)
    default = ADLS2Resource(storage_account="acct", credential=ADLS2DefaultAzureCredential())
    assert default.credential.credential_type == "default_azure_credential"
    with pytest.raises(ConfigError, match="credential"):
        ADLS2Resource(storage_account="acct", credential={"credential_type": "password"})  # type: ignore[arg-type]


def test_gcs_credentials_must_be_base64_json() -> None:
    with pytest.raises(ConfigError, match="base64"):
        GCSResource(gcp_credentials="not base64!").storage_options()
    info = {"type": "service_account", "project_id": "p"}
    encoded = base64.b64encode(json.dumps(info).encode()).decode()
    assert GCSResource(gcp_credentials=encoded).storage_options()["token"] == info


def test_s3_options_carry_dagster_settings() -> None:
    opts = S3Resource(
        region_name="eu-west-1", endpoint_url="http://minio:9000", profile_name="dev",
        use_unsigned_session=True, use_ssl=False, verify="/ca.pem", max_attempts=3,
    ).storage_options()  # fmt: skip
    assert opts["anon"] is True
    assert opts["use_ssl"] is False
    assert opts["profile"] == "dev"
    assert opts["endpoint_url"] == "http://minio:9000"
    assert opts["client_kwargs"] == {"region_name": "eu-west-1", "verify": "/ca.pem"}
    assert opts["max_attempts"] == 3


def test_cloud_metadata_addresses_are_refused(cloud_env: Path) -> None:
    from tests.object_stores import fixtures

    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="metadata"):
        sock.connect(("169.254.169.254", 80))
    assert fixtures.BLOCKED == ["('169.254.169.254', 80)"]
    fixtures.BLOCKED.clear()  # this attempt was the test's own


@pytest.mark.parametrize("given", ["plain", "env"])
def test_the_s3_access_key_id_stays_out_of_captured_debug_logs(
    s3_server: LocalServer, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """With the root logger at DEBUG, botocore logs each request's Authorization header, which
    holds the access key id: wharf's captured step logs mask it, whether the key was given as
    a plain field or an EnvVar. (The I/O manager's own requests run on fsspec's I/O thread,
    whose records a step does not capture; an asset using the boto3 client logs on its own.)"""
    import logging

    key_id = "AKIAWHARFTEST0KEY123"
    monkeypatch.setenv("WHARF_TEST_KEY_ID", key_id)
    field: Any = key_id if given == "plain" else dg.EnvVar("WHARF_TEST_KEY_ID")
    resource = s3_resource(s3_server).model_copy(update={"aws_access_key_id": field})

    @dg.asset
    def listing(s3: S3Resource) -> int:
        client = s3.get_client()
        client.put_object(Bucket=BUCKET, Key=f"keys-{given}/x", Body=b"1")
        return len(client.list_objects_v2(Bucket=BUCKET, Prefix=f"keys-{given}/")["Contents"])

    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        result = dg.materialize_to_memory([listing], resources={"s3": resource})
    finally:
        root.setLevel(old)
    assert result.output_for_node("listing") == 1
    lines = result.outcome("listing").logs
    assert any(ln.logger.startswith("botocore") for ln in lines)  # DEBUG was captured
    assert any("Credential=**********" in ln.message for ln in lines)
    assert all(key_id not in ln.message for ln in lines)
