"""What I/O managers see: InputContext and OutputContext, in a run and built by hand."""

import logging
from typing import Any

import pytest

import wharf as dg


class ContextSpy(dg.ConfigurableIOManager):
    """Stores values in a class-level dict and keeps the contexts it saw."""

    root: str

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        SEEN.append(("out", context))
        STORE[context.asset_key] = obj
        context.add_output_metadata({"root": self.root})

    def load_input(self, context: dg.InputContext) -> Any:
        SEEN.append(("in", context))
        return STORE[context.asset_key]


SEEN: list[tuple[str, Any]] = []
STORE: dict[dg.AssetKey, Any] = {}


@pytest.fixture(autouse=True)
def _clear() -> None:
    SEEN.clear()
    STORE.clear()


def test_contexts_in_a_run() -> None:
    @dg.asset(key_prefix="wh", metadata={"schema": "raw", "owner": "ana"})
    def sales() -> list[int]:
        return [1, 2]

    @dg.asset(
        key_prefix="wh",
        ins={"sales": dg.AssetIn(metadata={"columns": ["amount"]})},
        metadata={"schema": "mart"},
    )
    def summary(sales: list[int]) -> dict[str, int]:
        return {"total": sum(sales)}

    result = dg.materialize([sales, summary], resources={"io_manager": ContextSpy(root="/r")})
    assert result.success
    kinds = [k for k, _ in SEEN]
    assert kinds == ["out", "in", "out"]
    out_sales, in_sales, out_summary = (c for _, c in SEEN)

    assert isinstance(out_sales, dg.OutputContext)
    assert out_sales.has_asset_key
    assert out_sales.asset_key == dg.AssetKey(["wh", "sales"])
    assert out_sales.definition_metadata == {"schema": "raw", "owner": "ana"}
    assert out_sales.metadata == out_sales.definition_metadata
    assert out_sales.dagster_type.typing_type == list[int]
    assert out_sales.resource_config == {"root": "/r"}
    assert out_sales.step_key == "wh__sales"
    assert out_sales.name == "result"
    assert out_sales.run_id == result.run_id
    assert isinstance(out_sales.log, logging.Logger)
    assert out_sales.get_identifier() == ["wh", "sales"]

    assert isinstance(in_sales, dg.InputContext)
    assert in_sales.asset_key == dg.AssetKey(["wh", "sales"])
    assert in_sales.has_asset_key
    assert in_sales.name == "sales"
    assert in_sales.definition_metadata == {"columns": ["amount"]}
    assert in_sales.metadata == {"columns": ["amount"]}
    assert in_sales.dagster_type.typing_type == list[int]
    assert in_sales.resource_config == {"root": "/r"}
    assert isinstance(in_sales.log, logging.Logger)
    assert in_sales.step_key == "wh__sales"
    upstream = in_sales.upstream_output
    assert upstream is not None
    assert upstream.asset_key == dg.AssetKey(["wh", "sales"])
    assert upstream.definition_metadata == {"schema": "raw", "owner": "ana"}
    assert upstream.name == "result"

    assert out_summary.dagster_type.typing_type == dict[str, int]
    assert out_summary.definition_metadata == {"schema": "mart"}

    (event,) = [e for e in result.get_asset_materialization_events() if e.step_key == "wh__sales"]
    assert event.asset_materialization is not None
    assert event.asset_materialization.metadata["root"].value == "/r"


def test_dagster_type_of_asset_in_overrides_annotation() -> None:
    @dg.asset
    def up() -> int:
        return 1

    @dg.asset(ins={"up": dg.AssetIn(dagster_type=float)})
    def down(up: Any) -> int:
        return 2

    dg.materialize([up, down], resources={"io_manager": ContextSpy(root="r")})
    (in_ctx,) = [c for k, c in SEEN if k == "in"]
    assert in_ctx.dagster_type.typing_type is float


def test_unannotated_types_are_any() -> None:
    @dg.asset
    def up():  # type: ignore[no-untyped-def]
        return 1

    @dg.asset
    def down(up):  # type: ignore[no-untyped-def]
        return up

    dg.materialize([up, down], resources={"io_manager": ContextSpy(root="r")})
    assert all(c.dagster_type.typing_type is Any for _, c in SEEN)


def test_spec_upstream_metadata_reaches_upstream_output() -> None:
    spec = dg.AssetSpec("external", metadata={"table": "ext"})
    STORE[dg.AssetKey("external")] = [9]

    @dg.asset
    def uses(external: list[int]) -> int:
        return external[0]

    result = dg.materialize([spec, uses], resources={"io_manager": ContextSpy(root="r")})
    (in_ctx,) = [c for k, c in SEEN if k == "in"]
    assert in_ctx.upstream_output.definition_metadata == {"table": "ext"}
    assert result.output_for_node("uses") == 9


def test_build_output_context() -> None:
    ctx = dg.build_output_context(
        asset_key=["a", "b"],
        definition_metadata={"m": 1},
        dagster_type=int,
        resource_config={"root": "x"},
        resources={"r": 1},
        step_key="a__b",
    )
    assert ctx.asset_key == dg.AssetKey(["a", "b"])
    assert ctx.has_asset_key
    assert ctx.definition_metadata == ctx.metadata == {"m": 1}
    assert ctx.dagster_type.typing_type is int
    assert ctx.resource_config == {"root": "x"}
    assert ctx.resources.r == 1
    assert ctx.step_key == "a__b"
    ctx.add_output_metadata({"rows": 3})
    assert ctx.consume_logged_metadata() == {"rows": dg.MetadataValue.int(3)}
    assert dg.build_output_context(metadata={"old": 1}).definition_metadata == {"old": 1}


def test_build_input_context() -> None:
    upstream = dg.build_output_context(asset_key="up", definition_metadata={"schema": "s"})
    ctx = dg.build_input_context(
        name="up", upstream_output=upstream, metadata={"cols": ["a"]}, dagster_type=list
    )
    assert ctx.asset_key == dg.AssetKey("up")  # taken from the upstream output
    assert ctx.name == "up"
    assert ctx.definition_metadata == {"cols": ["a"]}
    assert ctx.upstream_output is upstream
    assert ctx.upstream_output.definition_metadata == {"schema": "s"}
    assert ctx.dagster_type.typing_type is list
    assert ctx.get_identifier() == ["up"]


def test_context_without_asset_key() -> None:
    ctx = dg.build_input_context()
    assert not ctx.has_asset_key
    assert ctx.dagster_type.typing_type is Any
    with pytest.raises(ValueError, match="belongs to no asset"):
        _ = ctx.asset_key
    out = dg.build_output_context(step_key="op", name="result")
    assert out.get_identifier() == ["op", "result"]


def test_resource_config_not_in_context_repr() -> None:
    ctx = dg.build_output_context(asset_key="a", resource_config={"password": "s3cr3t"})
    assert "s3cr3t" not in repr(ctx)
    assert "s3cr3t" not in repr(dg.build_input_context(resource_config={"password": "s3cr3t"}))


def test_build_asset_context() -> None:
    ctx = dg.build_asset_context(resources={"x": 1}, asset_key="a")
    assert ctx.asset_key == dg.AssetKey("a")
    assert ctx.resources.x == 1
    assert not ctx.has_partition_key
    ctx.add_output_metadata({"n": 1})
