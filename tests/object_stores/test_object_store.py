"""ObjectStoreIOManager on S3, GCS and Azure (local servers) and on local paths."""

from __future__ import annotations

import logging
import pickle
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import wharf as dg
from tests.object_stores.fixtures import url
from wharf._io.object_store import ObjectStoreIOManager, ParquetOrPickleIOManager
from wharf.errors import MissingEnvVarError, StorageError
from wharf.testing.servers import LocalServer

SECRET_OPTION = {"s3": "secret", "gcs": "token", "azure": "connection_string"}


@dg.asset
def sales() -> pd.DataFrame:
    return pd.DataFrame({"id": range(1000), "amount": [i * 0.5 for i in range(1000)]})


@dg.asset
def config() -> dict[str, int]:
    return {"threshold": 3}


def manager(server: LocalServer, tmp: Path, **options: Any) -> ObjectStoreIOManager:
    base = url(server, tmp.name)
    return ObjectStoreIOManager(base_path=base, storage_options=server.storage_options(**options))


def test_metadata_names_uri_bytes_rows_and_duration(server: LocalServer, tmp_path: Path) -> None:
    io = manager(server, tmp_path)
    result = dg.materialize([sales, config], resources={"io_manager": io})
    fs = server.filesystem()
    (table,) = result.asset_materializations_for_node("sales")
    uri = url(server, tmp_path.name, "sales.parquet")
    assert table.metadata["uri"].value == uri
    assert table.metadata["path"].value == uri
    assert table.metadata["bytes"].value == fs.size(uri)
    assert table.metadata["row_count"].value == 1000
    assert table.metadata["schema"].value == {"id": "int64", "amount": "double"}
    assert table.metadata["duration_s"].value > 0
    (blob,) = result.asset_materializations_for_node("config")
    assert blob.metadata["uri"].value == url(server, tmp_path.name, "config")
    assert blob.metadata["bytes"].value == fs.size(blob.metadata["uri"].value)
    assert "row_count" not in blob.metadata


def test_a_value_that_changes_kind_leaves_one_object(server: LocalServer, tmp_path: Path) -> None:
    @dg.asset(name="sales")
    def sales_as_dict() -> dict[str, int]:
        return {"total": 1}

    io = manager(server, tmp_path)
    fs = server.filesystem()
    folder = url(server, tmp_path.name)
    dg.materialize([sales], resources={"io_manager": io})
    assert [p.rsplit("/", 1)[-1] for p in fs.find(folder)] == ["sales.parquet"]
    result = dg.materialize([sales_as_dict], resources={"io_manager": io})
    assert [p.rsplit("/", 1)[-1] for p in fs.find(folder)] == ["sales"]
    assert result.asset_value("sales") == {"total": 1}


def test_loads_what_dagsters_pickle_manager_wrote(server: LocalServer, tmp_path: Path) -> None:
    server.filesystem().pipe_file(url(server, tmp_path.name, "config"), pickle.dumps({"a": 1}))
    sink: list[Any] = []

    @dg.asset
    def uses(config: dict[str, int]) -> None:
        sink.append(config)

    io = manager(server, tmp_path)
    dg.materialize([config, uses], resources={"io_manager": io}, selection=[uses.key])
    assert sink == [{"a": 1}]


@pytest.mark.parametrize("lazy", [pa.RecordBatchReader, pl.LazyFrame])
def test_lazy_inputs_read_ranges_not_the_whole_object(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lazy: type
) -> None:
    fs = server.filesystem()
    engine = ParquetOrPickleIOManager(url(server, tmp_path.name), filesystem=fs)
    dg.materialize([sales], resources={"io_manager": engine})
    whole: list[str] = []
    ranged = fs.cat_file  # gcsfs files fetch their ranges through cat_file(start=, end=)

    def cat_file(path: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("start") is None and kwargs.get("end") is None:
            whole.append(path)
        return ranged(path, *args, **kwargs)

    monkeypatch.setattr(fs, "cat_file", cat_file)
    sink: list[int] = []

    def total(sales):  # type: ignore[no-untyped-def]
        if lazy is pa.RecordBatchReader:
            sink.append(sum(sum(batch.column("id").to_pylist()) for batch in sales))
        else:
            sink.append(sales.select(pl.col("id").sum()).collect().item())

    total.__annotations__ = {"sales": lazy, "return": None}
    reader = dg.asset(name="total")(total)
    dg.materialize([sales, reader], resources={"io_manager": engine}, selection=[reader.key])
    assert sink == [sum(range(1000))]
    assert whole == []  # streamed through ranged reads, never one whole-object GET


def test_eager_inputs_download_the_object_in_one_request(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = server.filesystem()
    engine = ParquetOrPickleIOManager(url(server, tmp_path.name), filesystem=fs)
    dg.materialize([sales], resources={"io_manager": engine})
    opened: list[str] = []
    monkeypatch.setattr(fs, "open", lambda path, *a, **k: opened.append(path))
    loaded = engine.load_input(dg.build_input_context(asset_key="sales", dagster_type=pd.DataFrame))
    assert len(loaded) == 1000
    assert opened == []


def test_missing_bucket_is_a_storage_error_naming_asset_and_url(server: LocalServer) -> None:
    io = ObjectStoreIOManager(
        base_path=url(server).replace("wharf", "no-such-bucket") + "/x",
        storage_options=server.storage_options(max_attempts=1),
    )
    result = dg.materialize([config], resources={"io_manager": io}, raise_on_error=False)
    err = result.failures[dg.AssetKey("config")]
    assert isinstance(err, StorageError)
    assert isinstance(err, OSError)
    assert err.asset == "config"
    text = str(err)
    assert "'config'" in text
    assert "no-such-bucket/x/config" in text
    assert "last error" in text
    assert "ObjectStoreIOManager" in text


def test_secrets_stay_out_of_reprs_metadata_and_logs(
    server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = SECRET_OPTION[server.kind]
    secret = server.storage_options()[name]
    monkeypatch.setenv("WHARF_TEST_SECRET", secret)
    options = {**server.storage_options(), name: dg.EnvVar("WHARF_TEST_SECRET")}
    io = ObjectStoreIOManager(base_path=url(server, tmp_path.name), storage_options=options)
    assert secret not in repr(io)
    plain = ObjectStoreIOManager(base_path="s3://b/p", storage_options={name: secret})
    assert secret not in repr(plain)
    with caplog.at_level(logging.DEBUG, logger="wharf"):
        result = dg.materialize([sales, config], resources={"io_manager": io})
    assert result.success
    for node in ("sales", "config"):
        (mat,) = result.asset_materializations_for_node(node)
        assert all(secret not in str(v.value) for v in mat.metadata.values())
    assert secret not in caplog.text


def test_error_messages_mask_the_configured_secrets(tmp_path: Path) -> None:
    engine = ParquetOrPickleIOManager("memory://b/p", secrets=["s3cr3t-value"])
    context = dg.build_output_context(asset_key="t")
    err = engine.storage_error(
        context, "upload", engine.base_path / "t", OSError("bad s3cr3t-value")
    )
    assert "s3cr3t-value" not in str(err)
    assert "**********" in str(err)
    assert "'t'" in str(err)
    assert "memory://b/p/t" in str(err)


def test_missing_env_var_fails_before_any_asset_runs(tmp_path: Path) -> None:
    ran: list[str] = []

    @dg.asset
    def first() -> int:
        ran.append("first")
        return 1

    io = ObjectStoreIOManager(
        base_path="s3://wharf/x", storage_options={"secret": dg.EnvVar("WHARF_UNSET_SECRET_XYZ")}
    )
    with pytest.raises(MissingEnvVarError, match="WHARF_UNSET_SECRET_XYZ"):
        dg.materialize([first], resources={"io_manager": io})
    assert ran == []


@pytest.mark.parametrize("as_url", [True, False], ids=["file-url", "plain-path"])
def test_local_paths_work_without_any_server(tmp_path: Path, as_url: bool) -> None:
    base = tmp_path / "store"
    io = ObjectStoreIOManager(base_path=base.as_uri() if as_url else str(base))
    result = dg.materialize([sales, config], resources={"io_manager": io})
    assert sorted(p.name for p in base.iterdir()) == ["config", "sales.parquet"]
    (mat,) = result.asset_materializations_for_node("sales")
    assert mat.metadata["uri"].value == (base / "sales.parquet").as_uri()
    assert mat.metadata["bytes"].value == (base / "sales.parquet").stat().st_size
    assert result.asset_value("config") == {"threshold": 3}


def test_unknown_option_field_is_a_config_error() -> None:
    with pytest.raises(dg.errors.ConfigError, match="did you mean 'base_path'"):
        ObjectStoreIOManager(base_pth="s3://b")  # type: ignore[call-arg]


def test_values_past_the_memory_spool_go_through_a_temp_file_that_is_removed(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_dir))
    engine = ParquetOrPickleIOManager(url(server, tmp_path.name), filesystem=server.filesystem())
    engine.spool_in_memory = 64 * 1024
    big = pa.table({"id": pa.array(range(200_000), pa.int64())})  # ~1.6 MB > 64 KiB
    ok = dg.materialize([_value("big", lambda: big)], resources={"io_manager": engine})
    (mat,) = ok.asset_materializations_for_node("big")
    assert mat.metadata["bytes"].value == server.filesystem().size(mat.metadata["uri"].value)
    got = engine.load_input(dg.build_input_context(asset_key="big", dagster_type=pa.Table))
    assert got.equals(big)

    def failing() -> pa.RecordBatchReader:
        def batches() -> Any:
            yield from big.to_batches(max_chunksize=50_000)
            raise RuntimeError("source died")

        return pa.RecordBatchReader.from_batches(big.schema, batches())

    bad = dg.materialize(
        [_value("big", failing)], resources={"io_manager": engine}, raise_on_error=False
    )
    assert not bad.success
    assert list(spool_dir.iterdir()) == []  # both spool files are gone
    got = engine.load_input(dg.build_input_context(asset_key="big", dagster_type=pa.Table))
    assert got.equals(big)


def _value(name: str, make: Any) -> dg.AssetsDefinition:
    def produce() -> Any:
        return make()

    return dg.asset(name=name)(produce)


def test_two_values_in_one_object_are_refused_before_the_run(
    server: LocalServer, tmp_path: Path
) -> None:
    """Asset ``sales`` (a table, at ``sales.parquet``) and an asset named ``sales.parquet``
    (pickled at ``sales.parquet``), or partition keys ``p`` and ``p.parquet``, would be one
    object: refused before anything is written."""
    from wharf.errors import DefinitionError

    @dg.asset(key=["sales.parquet"])
    def sales_file() -> dict[str, int]:
        return {"a": 1}

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["p", "p.parquet"]))
    def parts() -> dict[str, int]:
        return {"a": 1}

    io = manager(server, tmp_path)
    with pytest.raises(DefinitionError, match=r"asset 'sales' and asset 'sales\.parquet' would"):
        dg.materialize([sales, sales_file], resources={"io_manager": io})
    with pytest.raises(DefinitionError, match="partition 'p' and asset 'parts' partition"):
        dg.materialize([parts], resources={"io_manager": io}, partition_key="p")
    assert server.filesystem().find(url(server, tmp_path.name)) == []


def test_a_stream_of_small_batches_is_stored_as_one_row_group(
    server: LocalServer, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    batches = [pa.record_batch({"id": [i], "x": [0.5 * i]}) for i in range(2_000)]

    @dg.asset
    def events() -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(batches[0].schema, batches)

    result = dg.materialize([events], resources={"io_manager": manager(server, tmp_path)})
    with server.filesystem().open(url(server, tmp_path.name, "events.parquet"), "rb") as f:
        assert pq.ParquetFile(f).num_row_groups == 1
    loaded = result.asset_value("events").read_all()
    assert loaded.equals(pa.Table.from_batches(batches))
