"""Writes cut off half-way leave the previous value readable; transient errors are retried.

* the source stream raises mid-write: nothing is uploaded at all (every store);
* S3: moto is paused (SIGSTOP) after the first part of a multipart upload;
* GCS: fake-gcs-server is killed (SIGKILL) after a resumable upload began, then restarted;
* Azure: Azurite is paused after the first staged block;
* a proxy answers 503: retried within ``max_attempts``, then a clear StorageError.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import wharf as dg
from tests.object_stores.fixtures import BUCKET, PROTOCOL, url
from tests.object_stores.flaky import FlakyProxy
from wharf._io.object_store import ParquetOrPickleIOManager, filesystem_for
from wharf.errors import StorageError
from wharf.testing.servers import LocalServer, start_fake_gcs

MIB = 2**20
OLD = pa.table({"v": pa.array([1, 2, 3], pa.int64())})


def big_table(rows: int = 1_000_000) -> pa.Table:
    """About 8 MiB of incompressible Parquet: several multipart chunks / blocks."""
    rng = np.random.default_rng(0)
    return pa.table({"v": pa.array(rng.integers(0, 2**62, rows), pa.int64())})


def engine(server: LocalServer, base: str, *, via: str | None = None, **options: Any) -> Any:
    """A manager on a fresh client (hooks stay local) with short timeouts and few attempts."""
    opts = {"max_attempts": 2, "timeout": 1.0, "skip_instance_cache": True, **options}
    fs = filesystem_for(PROTOCOL[server.kind], server.storage_options(via=via, **opts))
    return ParquetOrPickleIOManager(base, filesystem=fs)


def write(io: Any, value: Any) -> dg.ExecuteInProcessResult:
    @dg.asset(name="t")
    def t() -> Any:
        return value() if callable(value) else value

    return dg.materialize([t], resources={"io_manager": io}, raise_on_error=False)


def read(server: LocalServer, base: str) -> pa.Table:
    """The stored value, through a fresh client with default settings."""
    io = engine(server, base, max_attempts=3, timeout=10.0)
    return io.load_input(dg.build_input_context(asset_key="t", dagster_type=pa.Table))


def failure(result: dg.ExecuteInProcessResult) -> BaseException:
    assert not result.success
    err = result.failures[dg.AssetKey("t")]
    assert isinstance(err, BaseException)
    return err


def test_source_failing_mid_stream_uploads_nothing(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = url(server, tmp_path.name)
    io = engine(server, base)
    assert write(io, OLD).success
    uploads: list[str] = []
    monkeypatch.setattr(io._fs, "put_file", lambda lpath, rpath, **kw: uploads.append(rpath))
    chunk = big_table(250_000)

    def batches() -> Iterator[pa.RecordBatch]:
        for _ in range(3):  # ~6 MiB, past the first multipart chunk
            yield from chunk.to_batches()
        raise RuntimeError("source died mid-stream")

    result = write(io, lambda: pa.RecordBatchReader.from_batches(chunk.schema, batches()))
    assert "source died mid-stream" in repr(failure(result).__cause__ or failure(result))
    assert uploads == []
    assert read(server, base).equals(OLD)


def test_s3_paused_mid_multipart_upload(s3_server: LocalServer, tmp_path: Path) -> None:
    base = url(s3_server, tmp_path.name)
    assert write(engine(s3_server, base, timeout=10.0), OLD).success  # no deadline to hit here
    io = engine(s3_server, base, timeout=0.5)
    io.upload_options = {"chunksize": 5 * MIB}  # 12 MiB (>= 2 chunks) -> a multipart upload
    io.min_upload_rate = 100 * MIB  # a paused server stops reading: only the deadline ends it
    fs, calls = io._fs, []
    real_call = fs._call_s3

    async def call_s3(method: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(method)
        if method == "upload_part" and kwargs.get("PartNumber") == 2 and "paused" not in calls:
            calls.append("paused")
            s3_server.pause()
        return await real_call(method, *args, **kwargs)

    fs._call_s3 = call_s3
    start = time.monotonic()
    try:
        err = failure(write(io, big_table(1_500_000)))
    finally:
        s3_server.resume()
    assert time.monotonic() - start < 20
    assert "create_multipart_upload" in calls
    assert "complete_multipart_upload" not in calls
    assert isinstance(err, StorageError)
    assert f"asset 't' at s3://{BUCKET}/{tmp_path.name}/t.parquet" in str(err)
    assert "last error TimeoutError: the upload did not finish within its deadline" in str(err)
    assert "previously stored value is unchanged" in str(err)
    assert read(s3_server, base).equals(OLD)


def test_gcs_killed_mid_resumable_upload(cloud_env: Path, tmp_path: Path) -> None:
    with start_fake_gcs(cloud_env, root=tmp_path / "gcs-data") as server:
        server.create_bucket(BUCKET)
        base = url(server, "killed")
        io = engine(server, base)
        io.upload_options = {"chunksize": 2 * MIB}  # 8 MiB -> a resumable upload in 4 chunks
        assert write(io, OLD).success
        fs, calls = io._fs, []
        real_request = fs._request

        async def request(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            calls.append((method, str(path)))
            if "upload_id=" in str(path) and server.process is not None:
                server.kill()  # the session exists; its data never arrives
            return await real_request(method, path, *args, **kwargs)

        fs._request = request
        err = failure(write(io, big_table()))
        assert any("uploadType=resumable" in p for _, p in calls)
        assert isinstance(err, StorageError)
        assert f"gs://{BUCKET}/killed/t.parquet" in str(err)
        server.start()
        assert read(server, base).equals(OLD)


def test_azure_paused_mid_block_upload(azure_server: LocalServer, tmp_path: Path) -> None:
    base = url(azure_server, tmp_path.name)
    blocks: list[str] = []

    def hook(request: Any) -> None:
        target = str(request.http_request.url)
        if "comp=block" in target and "comp=blocklist" not in target:
            blocks.append(target)
            if len(blocks) == 2:
                azure_server.pause()

    sizes = {"max_single_put_size": MIB, "max_block_size": MIB, "raw_request_hook": hook}
    io = engine(azure_server, base, timeout=0.5, client_kwargs=sizes)
    assert write(io, OLD).success
    start = time.monotonic()
    try:
        err = failure(write(io, big_table()))
    finally:
        azure_server.resume()
    assert time.monotonic() - start < 20
    assert len(blocks) >= 2
    assert isinstance(err, StorageError)
    assert f"abfs://{BUCKET}/{tmp_path.name}/t.parquet" in str(err)
    assert read(azure_server, base).equals(OLD)


def test_transient_503_is_retried(server: LocalServer, tmp_path: Path) -> None:
    with FlakyProxy(server.port, failures=1) as proxy:
        base = url(server, tmp_path.name)
        io = engine(server, base, via=proxy.url, max_attempts=3)
        assert write(io, OLD).success
        assert proxy.served_503 == 1
    assert read(server, base).equals(OLD)


def test_persistent_503_fails_with_asset_url_and_last_error(
    server: LocalServer, tmp_path: Path
) -> None:
    base = url(server, tmp_path.name)
    assert write(engine(server, base), OLD).success
    with FlakyProxy(server.port, failures=10**6) as proxy:
        start = time.monotonic()
        err = failure(write(engine(server, base, via=proxy.url), big_table(1000)))
        elapsed = time.monotonic() - start
    assert isinstance(err, StorageError)
    assert 2 <= proxy.served_503 <= 4  # max_attempts=2 (a few more on Azure's PUT + HEAD)
    assert elapsed < 15
    text = str(err)
    assert "'t'" in text
    assert f"{PROTOCOL[server.kind]}://{BUCKET}/{tmp_path.name}/t" in text
    assert "503" in text or "Service Unavailable" in text or "ServiceUnavailable" in text
    assert read(server, base).equals(OLD)


_KILLED_UPLOADER = """
import json, sys, time
from pathlib import Path
import numpy as np, pyarrow as pa
import wharf as dg
from wharf._io.object_store import ParquetOrPickleIOManager, filesystem_for

options, base, ready = json.loads(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
fs = filesystem_for("s3", options)
real_call = fs._call_s3

async def call_s3(method, *args, **kwargs):
    answer = await real_call(method, *args, **kwargs)
    if method == "upload_part" and kwargs.get("PartNumber") == 1:  # part 1 is stored
        ready.write_text("uploading")
        time.sleep(60)  # blocks the other parts' requests too
    return answer

fs._call_s3 = call_s3
io = ParquetOrPickleIOManager(base, filesystem=fs, upload_options={"chunksize": 5 * 2**20})
values = np.random.default_rng(0).integers(0, 2**62, 1_500_000)  # 12 MiB: 3 parts

@dg.asset(name="t")
def t():
    return pa.table({"v": values})

dg.materialize([t], resources={"io_manager": io})
"""


def test_multipart_upload_of_a_killed_writer_is_aborted_by_a_later_write(
    s3_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kill -9`` in the middle of a multipart upload leaves its parts in the bucket (billed,
    never visible); a later write below the same base path aborts the upload once it has been
    idle longer than a live writer could be, never a recent one."""
    import json
    import os
    import signal
    import subprocess
    import sys

    base, ready = url(s3_server, tmp_path.name), tmp_path / "ready"
    script = tmp_path / "uploader.py"
    script.write_text(_KILLED_UPLOADER)
    options = json.dumps(s3_server.storage_options(skip_instance_cache=True))
    env = {**os.environ, **s3_server.env(), "WHARF_HOME": str(tmp_path / "home")}
    child = subprocess.Popen([sys.executable, str(script), options, base, str(ready)], env=env)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert ready.exists(), "the writer never reached its second part"
    fs = s3_server.filesystem()

    def unfinished() -> list[str]:
        listing = fs.call_s3("list_multipart_uploads", Bucket=BUCKET, Prefix=tmp_path.name)
        return [u["Key"] for u in listing.get("Uploads", [])]

    # (moto dates every upload's start 2010-11-10: only the parts' times are real here)
    assert unfinished() == [f"{tmp_path.name}/t.parquet"]
    # an upload that got a part recently may be a live writer's: kept
    io = engine(s3_server, base)
    monkeypatch.setattr("wharf._io.object_clients._SWEPT", {})  # as in a new process
    assert write(io, OLD).success
    assert unfinished() == [f"{tmp_path.name}/t.parquet"]
    assert io.abandoned_after(io._fs, 5 * MIB) >= io.abandoned_upload_after == 600
    # idle for longer than this manager allows (the server's clock counts whole seconds)
    monkeypatch.setattr(io, "abandoned_after", lambda fs, part: 0.5)
    time.sleep(1.1)
    monkeypatch.setattr("wharf._io.object_clients._SWEPT", {})
    assert write(io, OLD).success
    assert unfinished() == []
    assert read(s3_server, base).equals(OLD)
