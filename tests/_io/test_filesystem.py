"""FilesystemIOManager: the default, persistent under $WHARF_HOME/storage, atomic writes."""

import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

import wharf as dg
from wharf.errors import AssetTypeError, DefinitionError, StorageError, StoredValueNotFoundError


@dg.asset
def raw() -> list[int]:
    return [1, 2, 3]


@dg.asset
def doubled(raw: list[int]) -> list[int]:
    return [x * 2 for x in raw]


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_default_io_manager_is_filesystem_under_wharf_home(wharf_home: Path) -> None:
    result = dg.materialize([raw, doubled])
    storage = wharf_home / "storage"
    assert files(storage) == ["doubled", "raw"]
    assert pickle.loads((storage / "raw").read_bytes()) == [1, 2, 3]
    (event,) = [e for e in result.get_asset_materialization_events() if e.step_key == "raw"]
    assert event.asset_materialization is not None
    meta = event.asset_materialization.metadata
    assert meta["path"].value == str(storage / "raw")
    assert meta["bytes"].value == (storage / "raw").stat().st_size


def test_default_without_wharf_home_is_dot_wharf(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WHARF_HOME")
    dg.materialize([raw])
    assert files(tmp_path / ".wharf" / "storage") == ["raw"]


def test_subset_run_later_loads_what_an_earlier_run_stored() -> None:
    dg.materialize([raw])
    calls: list[str] = []

    @dg.asset(name="raw")
    def raw_must_not_run() -> list[int]:
        calls.append("raw")
        return []

    result = dg.materialize([raw_must_not_run, doubled], selection=[doubled])
    assert calls == []
    assert result.output_for_node("doubled") == [2, 4, 6]


def test_base_dir_and_key_prefix_become_folders(tmp_path: Path) -> None:
    @dg.asset(key_prefix=["wh", "mart"])
    def sales() -> dict[str, int]:
        return {"a": 1}

    base = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(base))
    assert repr(io) == f"FilesystemIOManager(base_dir={str(base)!r})"
    result = dg.materialize([sales], resources={"io_manager": io})
    assert files(base) == ["wh/mart/sales"]
    assert result.asset_value(["wh", "mart", "sales"]) == {"a": 1}


def test_base_dir_as_file_url(tmp_path: Path) -> None:
    io = dg.FilesystemIOManager(base_dir=(tmp_path / "u").as_uri())
    assert dg.materialize([raw], resources={"io_manager": io}).asset_value("raw") == [1, 2, 3]
    assert files(tmp_path / "u") == ["raw"]


@pytest.mark.parametrize("unpicklable", [lambda: 1, threading.Lock()], ids=["lambda", "lock"])
def test_failing_pickle_keeps_the_old_value(wharf_home: Path, unpicklable: Any) -> None:
    dg.materialize([raw])

    @dg.asset(name="raw")
    def raw_broken() -> Any:
        return unpicklable

    with pytest.raises(AssetTypeError) as info:
        dg.materialize([raw_broken])
    err = info.value
    assert isinstance(err, TypeError)
    assert "'raw'" in str(err)
    assert err.io_manager is not None
    assert err.io_manager in str(err)  # the I/O manager class
    assert "cannot pickle" in str(err)
    assert "stored value is unchanged" in str(err)
    assert files(wharf_home / "storage") == ["raw"]  # no temp file left behind
    assert dg.Definitions(assets=[raw]).load_asset_value("raw") == [1, 2, 3]


def test_missing_stored_input_is_file_not_found() -> None:
    result = dg.materialize([raw, doubled], selection=[doubled], raise_on_error=False)
    err = result.failures[dg.AssetKey("doubled")]
    assert isinstance(err, StoredValueNotFoundError)
    assert isinstance(err, FileNotFoundError)
    assert isinstance(err, StorageError)
    assert "'raw' has no stored value" in str(err)
    assert "Materialize it first" in str(err)


def test_unsafe_partition_key_is_rejected(tmp_path: Path) -> None:
    @dg.asset
    def part() -> int:
        return 1

    base = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(base))
    with pytest.raises(ValueError, match=r"partition key '\.\.'") as info:  # before anything runs
        dg.materialize([part], resources={"io_manager": io}, partition_key="..")
    assert isinstance(info.value, dg.errors.UnsafeNameError)
    assert not base.exists() or files(base) == []
    assert not (tmp_path / "part").exists()  # nothing written beside the base folder


def test_wrong_return_type_never_reaches_the_store(wharf_home: Path) -> None:
    dg.materialize([raw])
    before = (wharf_home / "storage" / "raw").read_bytes()

    @dg.asset(name="raw")
    def raw_wrong() -> list[int]:
        return "not a list"  # type: ignore[return-value]

    with pytest.raises(AssetTypeError, match=r"'raw' returned str.*expects list\[int\]"):
        dg.materialize([raw_wrong])
    assert (wharf_home / "storage" / "raw").read_bytes() == before
    assert files(wharf_home / "storage") == ["raw"]


def _value_of(key: Any, value: Any, io: Any) -> dg.MaterializeResult | Any:
    @dg.asset(key=key)
    def produce() -> Any:
        return value

    return dg.materialize([produce], resources={"io_manager": io}, raise_on_error=False)


def test_a_key_below_another_keeps_both_values(tmp_path: Path) -> None:
    import pyarrow as pa

    store = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(store))
    assert _value_of("a", pa.table({"v": [1]}), io).success  # a.parquet
    assert _value_of(["a", "c"], 7, io).success  # the folder a/ holds a/c
    assert _value_of("a", pa.table({"v": [2]}), io).success  # a table again: a/ is left alone
    assert files(store) == ["a.parquet", "a/c"]
    result = _value_of("a", 3, io)  # a pickle must go where the folder a/ is
    err = result.failures[dg.AssetKey("a")]
    assert isinstance(err, StorageError)
    assert "could not store asset 'a'" in str(err)
    assert "FilesystemIOManager" in str(err)
    assert "another asset's value is in the way" in str(err)
    assert files(store) == ["a.parquet", "a/c"]  # nothing lost, no temp file left


def test_a_name_too_long_for_the_file_system_is_refused_before_the_run(tmp_path: Path) -> None:
    store = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(store))
    long_name = "n" * 300
    with pytest.raises(DefinitionError) as info:
        _value_of(long_name, [1], io)
    text = str(info.value)
    assert f"FilesystemIOManager cannot store asset {long_name!r}" in text
    assert "its file name is 300 bytes and the file system allows 255 bytes per name" in text
    assert info.value.asset == long_name
    assert info.value.io_manager == "FilesystemIOManager"
    assert not store.exists()
    # the pickle fits, but the same asset stored as a table (<key>.parquet) would not
    with pytest.raises(DefinitionError, match="file name is 258 bytes"):
        _value_of("p" * 250, {"a": 1}, io)
    near_limit = "m" * 240  # fits (also as .parquet), though a temp name built from it would not
    assert _value_of(near_limit, [1], io).success
    assert files(store) == [near_limit]


def test_a_path_longer_than_the_os_allows_is_refused_with_the_limit(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d" * 200] * 21)  # over PATH_MAX (4096 bytes) in all
    io = dg.FilesystemIOManager(base_dir=str(deep))
    with pytest.raises(
        DefinitionError, match=r"its path is \d+ bytes and the file system allows 4095"
    ):
        _value_of("t", {"a": 1}, io)
    assert not any(tmp_path.iterdir())


def test_a_dynamic_partition_key_too_long_fails_before_writing(tmp_path: Path) -> None:
    """Dynamic keys are known only when the run writes them: the check is made then, for a
    pickle as for a table, with one clear error (the cleanup adds no second OSError)."""
    store = tmp_path / "store"
    parts = dg.DynamicPartitionsDefinition(name="customers")

    @dg.asset(partitions_def=parts)
    def per_customer() -> dict[str, int]:
        return {"n": 1}

    instance = dg.DagsterInstance.ephemeral()
    long_key = "k" * 300
    instance.add_dynamic_partitions("customers", [long_key])
    io = dg.FilesystemIOManager(base_dir=str(store))
    result = dg.materialize(
        [per_customer], resources={"io_manager": io}, partition_key=long_key,
        instance=instance, raise_on_error=False,
    )  # fmt: skip
    err = result.failures[dg.AssetKey("per_customer")]
    assert isinstance(err, StorageError)
    assert "FilesystemIOManager cannot store asset 'per_customer'" in str(err)
    assert "allows 255 bytes per name" in str(err)
    assert err.__context__ is None
    assert err.__cause__ is None
    assert files(store) == []


def test_a_lazy_value_failing_mid_write_names_the_asset_and_keeps_the_old_one(
    tmp_path: Path,
) -> None:
    import polars as pl

    store = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(store))
    assert _value_of("t", pl.DataFrame({"x": [1, 2]}), io).success
    broken = pl.LazyFrame({"x": ["1", "zz"]}).select(pl.col("x").str.to_integer())
    err = _value_of("t", broken, io).failures[dg.AssetKey("t")]
    assert isinstance(err, StorageError)
    assert "FilesystemIOManager could not store asset 't': writing its Parquet failed" in str(err)
    assert "previously stored value is unchanged" in str(err)
    assert files(store) == ["t.parquet"]
    kept = dg.Definitions(assets=[dg.AssetSpec("t")], resources={"io_manager": io})
    assert kept.load_asset_value("t", python_type=pl.DataFrame)["x"].to_list() == [1, 2]


def test_an_asset_named_like_another_assets_parquet_file_is_refused(tmp_path: Path) -> None:
    import pandas as pd

    @dg.asset(name="orders")
    def orders() -> pd.DataFrame:  # stored at orders.parquet
        return pd.DataFrame({"x": [1]})

    @dg.asset(key=["orders.parquet"])
    def orders_file() -> dict[str, int]:  # pickled at orders.parquet
        return {"a": 1}

    io = dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))
    with pytest.raises(DefinitionError) as info:
        dg.materialize([orders, orders_file], resources={"io_manager": io})
    assert "asset 'orders' and asset 'orders.parquet' would both be stored at orders.parquet" in (
        str(info.value)
    )
    assert info.value.io_manager == "FilesystemIOManager"
    assert not (tmp_path / "store").exists()
    # on a file system that tells case apart (this one), Orders and orders are two files
    assert files(tmp_path) == []

    @dg.asset(name="Orders")
    def upper() -> dict[str, int]:
        return {"upper": 1}

    @dg.asset(name="orders")
    def lower() -> dict[str, int]:
        return {"lower": 1}

    assert dg.materialize([upper, lower], resources={"io_manager": io}).success
    defs = dg.Definitions(assets=[upper, lower], resources={"io_manager": io})
    assert defs.load_asset_value("Orders") == {"upper": 1}
    assert defs.load_asset_value("orders") == {"lower": 1}


def test_partition_keys_p_and_p_parquet_are_refused(tmp_path: Path) -> None:
    import pandas as pd

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["p", "p.parquet"]))
    def parts(context: dg.AssetExecutionContext) -> Any:
        return {"key": context.partition_key}

    io = dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))
    with pytest.raises(DefinitionError, match=r"asset 'parts' partition 'p' and asset 'parts' "
                       r"partition 'p.parquet' would both be stored at parts/p.parquet"):  # fmt: skip
        dg.materialize([parts], resources={"io_manager": io}, partition_key="p")

    # dynamic keys are known when the run writes them: refused then, nothing written
    dyn = dg.DynamicPartitionsDefinition(name="batches")

    @dg.asset(partitions_def=dyn)
    def batch(context: dg.AssetExecutionContext) -> Any:
        if context.partition_key == "b":
            return pd.DataFrame({"x": [1]})
        return {"pickled": context.partition_key}

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("batches", ["b", "b.parquet"])
    for key in ("b", "b.parquet"):
        result = dg.materialize(
            [batch], resources={"io_manager": io}, partition_key=key, instance=instance,
            raise_on_error=False,
        )  # fmt: skip
        err = result.failures[dg.AssetKey("batch")]
        assert isinstance(err, StorageError)
        assert "partition 'b' is stored in the same place" in str(err) or (
            "partition 'b.parquet' is stored in the same place" in str(err)
        )
    assert files(tmp_path / "store") == []


def test_a_symlinked_folder_cannot_lead_a_write_outside_the_storage_folder(
    tmp_path: Path,
) -> None:
    store, outside = tmp_path / "store", tmp_path / "outside"
    store.mkdir()
    outside.mkdir()
    (store / "raw").symlink_to(outside, target_is_directory=True)

    @dg.asset(key=["raw", "orders"])
    def orders() -> dict[str, int]:
        return {"a": 1}

    io = dg.FilesystemIOManager(base_dir=str(store))
    err = dg.materialize([orders], resources={"io_manager": io}, raise_on_error=False).failures[
        dg.AssetKey(["raw", "orders"])
    ]
    assert isinstance(err, StorageError)
    assert "refuses to store asset 'raw/orders'" in str(err)
    assert f"outside the storage folder {store.resolve()}" in str(err)
    assert list(outside.iterdir()) == []
    # a symlinked storage folder itself is fine: the check compares resolved paths
    (tmp_path / "link").symlink_to(store, target_is_directory=True)
    io = dg.FilesystemIOManager(base_dir=str(tmp_path / "link" / "inner"))
    assert dg.materialize([orders], resources={"io_manager": io}).success
    assert files(store / "inner") == ["raw/orders"]


_FULL_DISK_SCRIPT = """
import json, os, sys
from pathlib import Path
import pandas as pd
import wharf as dg

store = Path(sys.argv[1])
def write(value):
    @dg.asset(name="blob")
    def blob():
        return value
    io = dg.FilesystemIOManager(base_dir=str(store))
    result = dg.materialize([blob], resources={"io_manager": io}, raise_on_error=False)
    err = result.failures.get(dg.AssetKey("blob"))
    return None if err is None else [type(err).__name__, str(err)]
out = {"small": write({"kept": 1})}
out["pickle"] = write(os.urandom(400_000))  # larger than the 256 KiB disk
out["parquet"] = write(pd.DataFrame({"b": [os.urandom(400_000)]}))
defs = dg.Definitions(assets=[dg.AssetSpec("blob")],
                      resources={"io_manager": dg.FilesystemIOManager(base_dir=str(store))})
out["loaded"] = defs.load_asset_value("blob")
out["files"] = sorted(p.name for p in store.iterdir())
print(json.dumps(out))
"""


def test_a_pickle_on_a_full_disk_is_a_storage_error(tmp_path: Path) -> None:
    """A real full disk: a 256 KiB tmpfs mounted in a user and mount namespace of its own
    (``unshare -rm``: works as root and as a user, and the mount vanishes with the process)."""
    from tests.mounts import run_behind_mount

    disk = tmp_path / "disk"
    disk.mkdir()
    tmpfs = f"mount -t tmpfs -o size=256k tmpfs {disk}"
    out = run_behind_mount(tmpfs, _FULL_DISK_SCRIPT, [str(disk / "store")], tmp_path)
    assert out["small"] is None
    for form in ("pickle", "parquet"):
        kind, text = out[form]
        assert kind == "StorageError", (form, text)
        assert "FilesystemIOManager could not store asset 'blob'" in text
        assert "previously stored value is unchanged" in text
    assert "[Errno 28] No space left on device" in out["pickle"][1]
    assert out["loaded"] == {"kept": 1}
    assert out["files"] == ["blob"]  # no temp file left behind


_CASE_SCRIPT = """
import json, sys
from pathlib import Path
import wharf as dg
from wharf._io.blob_names import case_insensitive

disk = Path(sys.argv[1])
found = {"empty": case_insensitive(disk / "store")}  # nothing lettered there: a probe file
(disk / "Orders").mkdir()
found["listed"] = case_insensitive(disk)  # an entry looked up with its case swapped

def asset(name):
    @dg.asset(name=name)
    def value():
        return {name: 1}
    return value

try:
    dg.materialize([asset("Sales"), asset("sales")],
                   resources={"io_manager": dg.FilesystemIOManager(base_dir=str(disk / "store"))})
    found["error"] = None
except Exception as exc:
    found["error"] = [type(exc).__name__, str(exc)]
found["files"] = sorted(p.name for p in (disk / "store").glob("*")) if (disk / "store").exists() else []
print(json.dumps(found))
"""


def test_names_differing_in_case_are_refused_on_a_case_insensitive_file_system(
    tmp_path: Path,
) -> None:
    """On a real case-insensitive file system (FAT through FUSE: ``mkfs.vfat`` + ``fusefat``,
    in a mount namespace of its own) the probe says so, and assets ``Sales`` and ``sales``,
    which would be one file there, are refused before the run. Here (ext4/overlay) they are
    two files."""
    from tests.mounts import run_behind_mount
    from wharf._io.blob_names import case_insensitive

    image, disk = tmp_path / "fat.img", tmp_path / "disk"
    disk.mkdir()
    with image.open("wb") as f:
        f.truncate(4 * 2**20)
    mount = (
        f"mkfs.vfat {image} >/dev/null && fusefat -o rw+ {image} {disk} >/dev/null 2>&1 && "
        f"trap 'fusermount -u {disk}' EXIT"
    )
    out = run_behind_mount(mount, _CASE_SCRIPT, [str(disk)], tmp_path)
    assert out["empty"] is True
    assert out["listed"] is True
    kind, text = out["error"]
    assert kind == "DefinitionError", text
    assert "'Sales'" in text
    assert "'sales'" in text
    assert out["files"] == []  # refused before anything was written
    assert case_insensitive(tmp_path) is False


_KILLED_WRITER_SCRIPT = """
import sys, time
from pathlib import Path
import wharf as dg
from wharf._io.object_store import ObjectStoreIOManager, ParquetOrPickleIOManager

ParquetOrPickleIOManager.spool_in_memory = 0  # as for a value over 64 MiB: spooled on disk
ready = Path(sys.argv[2])
class Slow:
    def __reduce__(self):  # called while the temp file (or spool file) is open
        ready.write_text("writing")
        time.sleep(60)
        return (int, ())

@dg.asset(name="blob")
def blob():
    return [b"x" * 1_000_000, Slow()]

io = (dg.FilesystemIOManager(base_dir=sys.argv[1]) if sys.argv[3] == "file"
      else ObjectStoreIOManager(base_path="memory://killed/" + sys.argv[1]))
dg.materialize([blob], resources={"io_manager": io})
"""


@pytest.mark.parametrize("where", ["file", "spool"])
def test_files_left_by_a_killed_writer_are_removed_on_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """``kill -9`` in the middle of a write leaves its temp file beside the target (or its
    spool file in the temp folder, for an object store); the next write removes it, and never
    a live writer's."""
    import os
    import signal
    import subprocess
    import sys
    import tempfile
    import time

    from wharf._io.object_store import ObjectStoreIOManager

    store, temp, ready = tmp_path / "store", tmp_path / "tmp", tmp_path / "ready"
    temp.mkdir()
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_WRITER_SCRIPT)
    env = {**os.environ, "TMPDIR": str(temp), "WHARF_HOME": str(tmp_path / "home")}
    child = subprocess.Popen([sys.executable, str(script), str(store), str(ready), where], env=env)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the writer never reached its write"
    left = store if where == "file" else temp
    # a live writer's file (this process's PID) is never removed
    live = left / (
        f".blob.wharf-{os.getpid()}-0.tmp" if where == "file" else f"wharf-{os.getpid()}-x.spool"
    )
    left.mkdir(exist_ok=True)
    live.write_bytes(b"")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    stale = [p.name for p in left.iterdir() if p != live]
    assert len(stale) == 1, stale  # what the killed writer left
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr("wharf._stores.spool._SWEPT", [])  # as in a new process
    monkeypatch.setattr("wharf._io.upath._SWEPT_FOLDERS", {})

    @dg.asset(name="blob")
    def blob() -> dict[str, int]:
        return {"a": 1}

    io: Any = (
        dg.FilesystemIOManager(base_dir=str(store))
        if where == "file"
        else ObjectStoreIOManager(base_path=f"memory://killed/{store}")
    )
    assert dg.materialize([blob], resources={"io_manager": io}).success
    remaining = sorted(p.name for p in left.iterdir())
    assert remaining == sorted([live.name, *(["blob"] if where == "file" else [])])


def test_a_stream_of_small_batches_is_stored_as_one_row_group(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    batches = [pa.record_batch({"id": [i]}) for i in range(2_000)]

    @dg.asset
    def events() -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(batches[0].schema, batches)

    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    result = dg.materialize([events], resources={"io_manager": io})
    assert pq.ParquetFile(tmp_path / "events.parquet").num_row_groups == 1
    assert result.asset_value("events").read_all().column("id").to_pylist() == list(range(2_000))


def test_a_stored_frame_name_no_adapter_has_names_it_and_the_installed_ones(
    tmp_path: Path,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    @dg.asset
    def events() -> pa.Table:
        return pa.table({"a": [1]})

    @dg.asset
    def down(events):  # type: ignore[no-untyped-def]  # unannotated: loads as stored
        return events

    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    dg.materialize([events], resources={"io_manager": io})
    file = tmp_path / "events.parquet"  # as a frame type of another installation wrote it
    pq.write_table(pq.read_table(file).replace_schema_metadata({"wharf.frame": "koalas"}), file)
    with pytest.raises(AssetTypeError) as err:
        dg.materialize([events, down], resources={"io_manager": io}, selection=["down"])
    text = str(err.value)
    for part in ("'events'", "FilesystemIOManager", "'koalas'", "arrow-table", str(file)):
        assert part in text
