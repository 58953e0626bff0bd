"""UPathIOManager subclasses as Dagster users write them, over local and fsspec paths."""

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from upath import UPath

import wharf as dg
from wharf.errors import StoredValueNotFoundError


class JsonIOManager(dg.UPathIOManager):
    extension = ".json"

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        with path.open("w") as f:
            json.dump(obj, f)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        with path.open("r") as f:
            return json.load(f)


@dg.io_manager(config_schema={"base_path": str})
def json_io_manager(init_context: dg.InitResourceContext) -> JsonIOManager:
    return JsonIOManager(base_path=UPath(init_context.resource_config["base_path"]))


@dg.asset(key_prefix="sales")
def raw() -> list[dict[str, Any]]:
    return [{"owner": "a", "amount": 1.5}]


@dg.asset(key_prefix="sales")
def clean(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r | {"clean": True} for r in raw]


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path / "store"  # beside $WHARF_HOME, which is also under tmp_path


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_json_upath_io_manager_round_trip(base: Path) -> None:
    io = json_io_manager.configured({"base_path": str(base)})
    result = dg.materialize([raw, clean], resources={"io_manager": io})
    assert stored_files(base) == ["sales/clean.json", "sales/raw.json"]
    assert json.loads((base / "sales" / "raw.json").read_text()) == [{"owner": "a", "amount": 1.5}]
    assert result.output_for_node("sales__clean") == [{"owner": "a", "amount": 1.5, "clean": True}]
    (mat,) = result.asset_materializations_for_node("sales__raw")
    assert mat.metadata["path"].value == str(base / "sales" / "raw.json")
    assert mat.metadata["bytes"].value == (base / "sales" / "raw.json").stat().st_size


def test_failing_dump_mid_write_keeps_old_value_and_no_temp_file(base: Path) -> None:
    io = JsonIOManager(base_path=base)
    dg.materialize([raw], resources={"io_manager": io})

    @dg.asset(key_prefix="sales", name="raw")
    def raw_broken() -> list[Any]:
        return [{"owner": "b"}, object()]  # json.dump writes the first item, then fails

    with pytest.raises(TypeError, match="not JSON serializable"):
        dg.materialize([raw_broken], resources={"io_manager": io})
    assert stored_files(base) == ["sales/raw.json"]
    result = dg.materialize([raw, clean], resources={"io_manager": io}, selection=[clean])
    assert result.output_for_node("sales__clean") == [{"owner": "a", "amount": 1.5, "clean": True}]


def test_fsspec_memory_filesystem() -> None:
    base = f"memory://wharf-test-{uuid.uuid4().hex}"
    io = JsonIOManager(base_path=UPath(base))
    result = dg.materialize([raw, clean], resources={"io_manager": io})
    assert (UPath(base) / "sales" / "clean.json").exists()
    assert result.asset_value(["sales", "clean"])[0]["clean"] is True
    (mat,) = result.asset_materializations_for_node("sales__raw")
    assert mat.metadata["path"].value.startswith("memory://")


def test_missing_file_names_asset_and_path(base: Path) -> None:
    io = JsonIOManager(base_path=base)
    with pytest.raises(StoredValueNotFoundError) as info:
        dg.materialize([raw, clean], resources={"io_manager": io}, selection=[clean])
    err = info.value
    assert isinstance(err, FileNotFoundError)
    assert "'sales/raw'" in str(err)
    assert "raw.json" in str(err)
    assert "JsonIOManager" in str(err)


def test_partitioned_path(base: Path) -> None:
    io = JsonIOManager(base_path=base)
    io.handle_output(dg.build_output_context(asset_key="p", partition_key="2024-01-01"), [1])
    assert stored_files(base) == ["p/2024-01-01.json"]
    loaded = io.load_input(dg.build_input_context(asset_key="p", partition_key="2024-01-01"))
    assert loaded == [1]


def test_direct_use_with_built_contexts(base: Path) -> None:
    io = JsonIOManager(base_path=base)
    out = dg.build_output_context(asset_key=["a", "b"])
    io.handle_output(out, {"x": 1})
    assert set(out.consume_logged_metadata()) == {"path", "bytes"}
    assert io.load_input(dg.build_input_context(asset_key=["a", "b"])) == {"x": 1}
