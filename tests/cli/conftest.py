"""CLI fixtures: pipeline files in tmp_path, and sys.path / sys.modules restored after each test."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PIPELINE = """
import wharf as dg

@dg.asset(group_name="raw")
def numbers() -> list[int]:
    return [1, 2, 3]

@dg.asset(metadata={"owner": "data"})
def total(numbers: list[int]) -> int:
    return sum(numbers)

@dg.asset(io_manager_key="mem")
def doubled(numbers: list[int]) -> list[int]:
    return [n * 2 for n in numbers]

defs = dg.Definitions(
    assets=[numbers, total, doubled], resources={"mem": dg.InMemoryIOManager()}
)
"""

FAILING = """
import wharf as dg

@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]

@dg.asset
def broken(numbers: list[int]) -> int:
    raise ValueError("numbers do not add up\\nsecond line of the message")

@dg.asset
def report(broken: int) -> str:
    return str(broken)

@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)

defs = dg.Definitions(assets=[numbers, broken, report, total])
"""

SECRET = """
import wharf as dg

class Api(dg.ConfigurableResource):
    url: str
    token: str

@dg.asset
def fetched(api: Api) -> str:
    return api.url

defs = dg.Definitions(
    assets=[fetched], resources={"api": Api(url="http://x", token=dg.EnvVar("WHARF_TEST_TOKEN"))}
)
"""


@pytest.fixture(autouse=True)
def _isolate_imports(tmp_path: Path) -> Iterator[None]:
    """Forget the test's pipeline modules, so the next test imports its own of the same name."""
    path = list(sys.path)
    yield
    sys.path[:] = path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write dedented Python source to ``tmp_path/name`` and return the path."""

    def _write(name: str, source: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path

    return _write
