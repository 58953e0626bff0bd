"""Custom I/O managers as Dagster users write them: IOManager, ConfigurableIOManager,
ConfigurableIOManagerFactory and the function-style @io_manager."""

from pathlib import Path
from typing import Any

import pytest

import wharf as dg


class DictIOManager(dg.IOManager):
    def __init__(self, store: dict[tuple[str, ...], Any] | None = None) -> None:
        self.store = {} if store is None else store

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.store[tuple(context.asset_key.path)] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        return self.store[tuple(context.asset_key.path)]


class TextIOManager(dg.ConfigurableIOManager):
    """Writes str(obj) to <root>/<key>.txt; loads it back as the annotated type."""

    root: str
    suffix: str = ".txt"

    def _path(self, context: dg.InputContext | dg.OutputContext) -> Path:
        return Path(self.root, *context.asset_key.path).with_suffix(self.suffix)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(obj))
        context.add_output_metadata({"chars": len(str(obj))})

    def load_input(self, context: dg.InputContext) -> Any:
        return context.dagster_type.typing_type(self._path(context).read_text())


class DictFactory(dg.ConfigurableIOManagerFactory):
    label: str

    def create_io_manager(self, context: dg.InitResourceContext) -> DictIOManager:
        CREATED.append((self.label, context.resource_key, dict(context.resource_config)))
        return DictIOManager(SHARED)


CREATED: list[Any] = []
SHARED: dict[tuple[str, ...], Any] = {}


@pytest.fixture(autouse=True)
def _clear() -> None:
    CREATED.clear()
    SHARED.clear()


@dg.asset
def n() -> int:
    return 21


@dg.asset
def doubled(n: int) -> int:
    return n * 2


def test_configurable_io_manager(tmp_path: Path) -> None:
    io = TextIOManager(root=str(tmp_path))
    assert repr(io) == f"TextIOManager(root={str(tmp_path)!r}, suffix='.txt')"
    result = dg.materialize([n, doubled], resources={"io_manager": io})
    assert (tmp_path / "n.txt").read_text() == "21"
    assert result.output_for_node("doubled") == 42
    (mat,) = result.asset_materializations_for_node("doubled")
    assert mat.metadata["chars"].value == 2


def test_configurable_io_manager_factory_builds_once_per_run() -> None:
    factory = DictFactory(label="f")
    dg.materialize([n, doubled], resources={"io_manager": factory})
    assert SHARED == {("n",): 21, ("doubled",): 42}
    assert CREATED == [("f", "io_manager", {"label": "f"})]


def test_function_style_io_manager() -> None:
    built: list[dict[str, Any]] = []

    @dg.io_manager
    def dict_io_manager(init_context: dg.InitResourceContext) -> DictIOManager:
        built.append(dict(init_context.resource_config))
        return DictIOManager(SHARED)

    @dg.io_manager(config_schema={"prefix": str})
    def configured_io_manager(init_context: dg.InitResourceContext) -> DictIOManager:
        built.append(dict(init_context.resource_config))
        return DictIOManager(SHARED)

    @dg.io_manager
    def no_args() -> DictIOManager:
        return DictIOManager(SHARED)

    assert isinstance(dict_io_manager, dg.IOManagerDefinition)
    assert dg.materialize([n, doubled], resources={"io_manager": dict_io_manager}).success
    assert built == [{}]
    assert SHARED[("doubled",)] == 42
    configured = configured_io_manager.configured({"prefix": "p"})
    assert dg.materialize([n], resources={"io_manager": configured}).success
    assert built[-1] == {"prefix": "p"}
    assert dg.materialize([n], resources={"io_manager": no_args}).success


def test_function_style_io_manager_with_required_resources() -> None:
    @dg.io_manager(required_resource_keys={"zz_store"})
    def backed(init_context: dg.InitResourceContext) -> DictIOManager:
        return DictIOManager(init_context.resources.zz_store)

    store: dict[tuple[str, ...], Any] = {}
    assert dg.materialize([n], resources={"io_manager": backed, "zz_store": store}).success
    assert store == {("n",): 21}


def test_mixed_io_managers_per_asset(tmp_path: Path) -> None:
    @dg.asset(io_manager_key="text")
    def word() -> str:
        return "wharf"

    @dg.asset(io_manager_key="dicts")
    def shout(word: str) -> str:
        return word.upper()

    @dg.asset
    def length(shout: str) -> int:
        return len(shout)

    result = dg.materialize(
        [word, shout, length],
        resources={"text": TextIOManager(root=str(tmp_path)), "dicts": DictFactory(label="d")},
    )
    assert (tmp_path / "word.txt").read_text() == "wharf"
    assert SHARED == {("shout",): "WHARF"}
    assert result.output_for_node("length") == 5


def test_function_style_io_manager_missing_required_resource() -> None:
    @dg.io_manager(required_resource_keys={"zz_store"})
    def backed(init_context: dg.InitResourceContext) -> DictIOManager:
        return DictIOManager(init_context.resources.zz_store)

    with pytest.raises(dg.errors.MissingResourceError) as info:
        dg.materialize([n], resources={"io_manager": backed})
    assert isinstance(info.value, KeyError)
    assert "I/O manager 'io_manager' requires the resource 'zz_store'" in str(info.value)
