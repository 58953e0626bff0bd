"""Dagster's function-style object-store definitions (``s3_resource``, ``s3_pickle_io_manager``,
``adls2_resource``, ``adls2_pickle_io_manager``, ``gcs_resource``, ``gcs_pickle_io_manager``)
against the session's real S3 (moto), Azure (Azurite) and GCS (fake-gcs-server) servers.

The first test is the docs' "multi-asset I/O managers" example: a multi-asset whose two outputs
go to an S3 and an ADLS2 pickle manager, configured with ``.configured({...})`` and backed by
the ``s3`` / ``adls2`` resources; each value lands as a pickle under the manager's prefix.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import wharf as dg
from tests.object_stores.fixtures import BUCKET
from wharf.adls2 import adls2_pickle_io_manager, adls2_resource
from wharf.errors import MissingResourceError
from wharf.gcs import gcs_pickle_io_manager, gcs_resource
from wharf.s3 import S3Resource, s3_pickle_io_manager, s3_resource
from wharf.testing.servers import AZURITE_ACCOUNT, AZURITE_KEY, LocalServer


def s3_config(server: LocalServer) -> dict[str, Any]:
    return {"endpoint_url": server.url, "region_name": "us-east-1",
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # fmt: skip


def adls2_config(server: LocalServer) -> dict[str, Any]:
    return {"storage_account": AZURITE_ACCOUNT, "credential": {"key": AZURITE_KEY},
            "endpoint_url": f"{server.url}/{AZURITE_ACCOUNT}"}  # fmt: skip


def test_multi_asset_outputs_on_s3_and_adls2(
    s3_server: LocalServer, azure_server: LocalServer, tmp_path: Any
) -> None:
    @dg.multi_asset(
        outs={
            "s3_asset": dg.AssetOut(io_manager_key="s3_io_manager"),
            "adls_asset": dg.AssetOut(io_manager_key="adls2_io_manager"),
        },
    )
    def my_assets():
        return "store_me_on_s3", "store_me_on_adls2"

    prefix = f"fn-{tmp_path.name}"
    defs = dg.Definitions(
        assets=[my_assets],
        resources={
            "s3_io_manager": s3_pickle_io_manager.configured(
                {"s3_bucket": BUCKET, "s3_prefix": prefix}
            ),
            "adls2_io_manager": adls2_pickle_io_manager.configured(
                {"adls2_file_system": BUCKET, "adls2_prefix": prefix}
            ),
            "s3": s3_resource.configured(s3_config(s3_server)),
            "adls2": adls2_resource.configured(adls2_config(azure_server)),
        },
    )
    assert defs.materialize().success
    client = S3Resource(**s3_config(s3_server)).get_client()
    body = client.get_object(Bucket=BUCKET, Key=f"{prefix}/s3_asset")["Body"].read()
    assert pickle.loads(body) == "store_me_on_s3"
    with pytest.raises(client.exceptions.NoSuchKey):
        client.get_object(Bucket=BUCKET, Key=f"{prefix}/adls_asset")
    from wharf.adls2 import ADLS2Key, ADLS2Resource

    azure = ADLS2Resource(storage_account=AZURITE_ACCOUNT, credential=ADLS2Key(key=AZURITE_KEY),
                          endpoint_url=f"{azure_server.url}/{AZURITE_ACCOUNT}")  # fmt: skip
    blob = azure.filesystem().cat_file(f"{BUCKET}/{prefix}/adls_asset")
    assert pickle.loads(blob) == "store_me_on_adls2"
    # a later run loads each back through its own manager
    assert defs.load_asset_value("s3_asset") == "store_me_on_s3"
    assert defs.load_asset_value("adls_asset") == "store_me_on_adls2"


def test_s3_resource_is_a_boto3_client_and_run_config_configures_the_manager(
    s3_server: LocalServer, tmp_path: Any
) -> None:
    seen: list[str] = []

    @dg.asset(required_resource_keys={"s3"})
    def listing(context: dg.AssetExecutionContext) -> list[str]:
        client = context.resources.s3  # dagster-aws gives a boto3 client
        seen.append(type(client).__name__)
        found = client.list_objects_v2(Bucket=BUCKET, Prefix="run-config").get("Contents", [])
        return [o["Key"] for o in found]

    result = dg.materialize(
        [listing],
        resources={"io_manager": s3_pickle_io_manager, "s3": s3_resource},
        run_config={"resources": {
            "io_manager": {"config": {"s3_bucket": BUCKET, "s3_prefix": f"run-config/{tmp_path.name}"}},
            "s3": {"config": s3_config(s3_server)},
        }},
    )  # fmt: skip
    assert result.success
    assert seen == ["S3"]
    assert result.asset_value("listing") == []
    client = S3Resource(**s3_config(s3_server)).get_client()
    assert client.head_object(Bucket=BUCKET, Key=f"run-config/{tmp_path.name}/listing")


def test_gcs_pickle_io_manager_with_the_gcs_resource(
    gcs_server: LocalServer, tmp_path: Any
) -> None:
    @dg.asset
    def numbers() -> list[int]:
        return [1, 2]

    @dg.asset
    def doubled(numbers: list[int]) -> list[int]:
        return [n * 2 for n in numbers]

    resources = {
        "io_manager": gcs_pickle_io_manager.configured(
            {"gcs_bucket": BUCKET, "gcs_prefix": f"fn-{tmp_path.name}"}
        ),
        "gcs": gcs_resource.configured(
            {"project": "test", "endpoint_url": gcs_server.url, "anonymous": True}
        ),
    }
    result = dg.materialize([numbers, doubled], resources=resources)
    assert result.asset_value("doubled") == [2, 4]


def test_a_missing_required_resource_is_an_error_before_any_asset_runs() -> None:
    ran: list[str] = []

    @dg.asset
    def never() -> int:
        ran.append("never")
        return 1

    manager = s3_pickle_io_manager.configured({"s3_bucket": BUCKET})
    with pytest.raises(MissingResourceError, match=r"'io_manager' requires the resource 's3'"):
        dg.materialize([never], resources={"io_manager": manager})
    assert ran == []


def test_a_source_asset_loads_from_s3_through_its_io_manager(
    s3_server: LocalServer, tmp_path: Any
) -> None:
    """The docs' source asset with ``io_manager_key="s3_io_manager"``: data another system put
    at ``s3://<bucket>/<prefix>/my_source_asset`` is loaded by the downstream asset."""
    prefix = f"source-{tmp_path.name}"
    client = S3Resource(**s3_config(s3_server)).get_client()
    client.put_object(Bucket=BUCKET, Key=f"{prefix}/my_source_asset", Body=pickle.dumps([1, 2, 3]))

    my_source_asset = dg.SourceAsset(key=dg.AssetKey("my_source_asset"),
                                     io_manager_key="s3_io_manager")  # fmt: skip

    @dg.asset
    def my_derived_asset(my_source_asset: list[int]) -> list[int]:
        return [*my_source_asset, 4]

    defs = dg.Definitions(
        assets=[my_source_asset, my_derived_asset],
        resources={
            "s3_io_manager": s3_pickle_io_manager.configured(
                {"s3_bucket": BUCKET, "s3_prefix": prefix}
            ),
            "s3": s3_resource.configured(s3_config(s3_server)),
            "io_manager": dg.InMemoryIOManager(),
        },
    )
    assert defs.materialize().output_for_node("my_derived_asset") == [1, 2, 3, 4]
