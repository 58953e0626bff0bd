"""Run config: Config parameters, RunConfig and the dict form, config_schema with Field & co,
build_asset_context(asset_config=), configure_at_launch, and every bad input named by its path."""

from __future__ import annotations

from typing import Any

import pytest

import wharf as dg
from wharf.errors import ConfigError


# Dagster's run-configuration documentation example, imports changed only.
class MyAssetConfig(dg.Config):
    person_name: str


@dg.asset
def greeting(config: MyAssetConfig) -> str:
    return f"hello {config.person_name}"


def test_documented_config_example() -> None:
    result = dg.materialize(
        [greeting], run_config=dg.RunConfig({"greeting": MyAssetConfig(person_name="Alice")})
    )
    assert result.success
    assert result.output_for_node("greeting") == "hello Alice"


def test_dict_form_and_context_op_config() -> None:
    class Limits(dg.Config):
        limit: int = 10
        names: tuple[str, ...] = ()

    seen: list[Any] = []

    @dg.asset
    def raw(context: dg.AssetExecutionContext, config: Limits) -> list[int]:
        seen.append(context.op_config)
        seen.append(context.op_execution_context.op_config)
        return list(range(config.limit))

    run_config = {"ops": {"raw": {"config": {"limit": 3}}}}
    result = dg.materialize_to_memory([raw], run_config=run_config)
    assert result.output_for_node("raw") == [0, 1, 2]
    assert seen == [{"limit": 3, "names": ()}] * 2
    # defaults apply without any run config
    assert dg.materialize_to_memory([raw]).output_for_node("raw") == list(range(10))


def test_config_schema_with_fields() -> None:
    @dg.asset(
        config_schema={
            "limit": dg.Field(dg.Int, default_value=2, description="rows"),
            "name": dg.String,
            "ratio": dg.Field(dg.Float, is_required=False),
            "flags": dg.Field(dg.Array(dg.Bool), default_value=[]),
            "extra": dg.Field(dg.Permissive(), default_value={}),
            "maybe": dg.Noneable(int),
            "nested": dg.Shape({"depth": dg.Field(int, default_value=1)}),
        }
    )
    def shaped(context: dg.AssetExecutionContext) -> dict[str, Any]:
        return dict(context.op_config)

    cfg = {"name": "n", "ratio": 1, "extra": {"any": "thing"}}
    value = dg.materialize_to_memory(
        [shaped], run_config={"ops": {"shaped": {"config": cfg}}}
    ).output_for_node("shaped")
    assert value == {
        "limit": 2, "name": "n", "ratio": 1.0, "flags": [], "extra": {"any": "thing"},
        "maybe": None, "nested": {"depth": 1},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("run_config", "match"),
    [
        ({"ops": {"raw": {"config": {"limit": "many"}}}}, "'ops.raw.config.limit'"),
        ({"ops": {"raw": {"config": {"limt": 3}}}}, "'ops.raw.config.limt' is not a field"),
        ({"ops": {"nope": {"config": {}}}}, "'ops.nope'.*no asset or op is named 'nope'"),
        ({"ops": {"raw": {"cfg": {}}}}, "'ops.raw.cfg': unknown key"),
        ({"opz": {}}, "'opz': unknown key: expected only ops, resources"),
        ({"ops": {"plain": {"config": {"a": 1}}}}, "'ops.plain.config'.*takes no config"),
        (
            {"ops": {"raw": {"config": {"limit": 1}}}, "resources": {"ghost": {"config": {}}}},
            "'resources.ghost'.*no resource has the key",
        ),
        (dg.RunConfig(ops={"raw": 5}), "expected a Limits or a dict"),
        ([1], "expected a RunConfig or a dict"),
    ],
)
def test_bad_run_config_names_the_path_before_anything_runs(run_config: Any, match: str) -> None:
    class Limits(dg.Config):
        limit: int

    ran: list[str] = []

    @dg.asset
    def raw(config: Limits) -> int:
        ran.append("raw")
        return config.limit

    @dg.asset
    def plain() -> int:
        ran.append("plain")
        return 1

    with pytest.raises(ConfigError, match=match):
        dg.materialize_to_memory([plain, raw], run_config=run_config)
    assert ran == []


def test_missing_required_fields_are_named() -> None:
    with pytest.raises(ConfigError, match=r"'ops.greeting.config.person_name' is missing"):
        dg.materialize_to_memory([greeting])

    @dg.asset(config_schema={"limit": int})
    def legacy(context: dg.AssetExecutionContext) -> int:
        return int(context.op_config["limit"])

    with pytest.raises(ConfigError, match=r"'ops.legacy.config.limit' is missing"):
        dg.materialize_to_memory([legacy])
    with pytest.raises(ConfigError, match=r"'ops.legacy.config.limit': expected Int, got 'x'"):
        dg.materialize_to_memory(
            [legacy], run_config={"ops": {"legacy": {"config": {"limit": "x"}}}}
        )


def test_bad_config_schema_and_both_kinds_are_definition_errors() -> None:
    with pytest.raises(
        ConfigError,
        match=r"asset 'odd': config_schema= field 'x': Field: .* is not a config schema",
    ):

        @dg.asset(name="odd", config_schema={"x": object()})
        def odd() -> None:
            pass

    with pytest.raises(dg.errors.DefinitionError, match=r"both a Config parameter"):

        @dg.asset(config_schema={"x": int})
        def both(config: MyAssetConfig) -> None:
            pass

    with pytest.raises(ConfigError, match=r"MyAssetConfig.person_nam' is not a field"):
        MyAssetConfig(person_nam="x")  # type: ignore[call-arg]


def test_build_asset_context_with_config_for_direct_calls() -> None:
    @dg.asset(config_schema={"n": int})
    def doubled(context: dg.AssetExecutionContext) -> int:
        return int(context.op_config["n"]) * 2

    assert doubled(dg.build_asset_context(asset_config={"n": 4})) == 8
    assert greeting(config=MyAssetConfig(person_name="Bo")) == "hello Bo"
    ctx = dg.build_asset_context(asset_config=MyAssetConfig(person_name="Cy"))
    assert ctx.op_config == {"person_name": "Cy"}


class DatabaseResource(dg.ConfigurableResource):
    table: str
    schema_name: str = "public"

    def read(self) -> str:
        return f"{self.schema_name}.{self.table}"


@dg.asset
def data_from_database(db_conn: DatabaseResource) -> str:
    return db_conn.read()


def test_configure_at_launch_and_resources_in_run_config() -> None:
    memory = dg.InMemoryIOManager()
    defs = dg.Definitions(
        assets=[data_from_database],
        resources={"db_conn": DatabaseResource.configure_at_launch(), "io_manager": memory},
    )
    run_config = {"resources": {"db_conn": {"config": {"table": "orders"}}}}
    assert defs.materialize(run_config=run_config).output_for_node("data_from_database") == (
        "public.orders"
    )
    typed = dg.RunConfig(resources={"db_conn": DatabaseResource(table="users", schema_name="s")})
    assert defs.materialize(run_config=typed).output_for_node("data_from_database") == "s.users"
    with pytest.raises(ConfigError, match=r"'resources.db_conn.config'.*'table'"):
        defs.materialize()
    with pytest.raises(ConfigError, match=r"unknown config field 'tabel'"):
        defs.materialize(run_config={"resources": {"db_conn": {"config": {"tabel": "x"}}}})
    # a configured resource takes run-config overrides of its fields
    fixed = dg.Definitions(
        assets=[data_from_database],
        resources={"db_conn": DatabaseResource(table="t"), "io_manager": memory},
    )
    over = {"resources": {"db_conn": {"config": {"schema_name": "x"}}}}
    assert fixed.materialize(run_config=over).output_for_node("data_from_database") == "x.t"


def test_job_config_is_the_default_run_config() -> None:
    job = dg.define_asset_job(
        "greet_job", selection=[greeting],
        config={"ops": {"greeting": {"config": {"person_name": "Di"}}}},
    )  # fmt: skip
    defs = dg.Definitions(
        assets=[greeting], jobs=[job], resources={"io_manager": dg.InMemoryIOManager()}
    )
    assert defs.get_job_def("greet_job").execute_in_process().output_for_node("greeting") == (
        "hello Di"
    )
    other = dg.RunConfig(ops={"greeting": MyAssetConfig(person_name="Ed")})
    result = defs.get_job_def("greet_job").execute_in_process(run_config=other)
    assert result.output_for_node("greeting") == "hello Ed"


def test_config_reaches_worker_processes(tmp_path: Any) -> None:
    class N(dg.Config):
        n: int

    @dg.asset
    def counted(config: N) -> int:
        return config.n

    result = dg.materialize(
        [counted],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "s"))},
        run_config={"ops": {"counted": {"config": {"n": 7}}}},
        executor=dg.multiprocess_executor(max_concurrent=1),
    )
    assert result.asset_value("counted") == 7


def test_a_multi_assets_config_is_named_by_its_op_once_for_all_its_assets() -> None:
    class Start(dg.Config):
        n: int

    @dg.multi_asset(outs={"low": dg.AssetOut(), "high": dg.AssetOut()})
    def bounds(config: Start) -> tuple[int, int]:
        return config.n, config.n + 10

    result = dg.materialize_to_memory(
        [bounds], run_config={"ops": {"bounds": {"config": {"n": 1}}}}
    )
    assert (result.asset_value("low"), result.asset_value("high")) == (1, 11)
    result = dg.materialize_to_memory([bounds], run_config=dg.RunConfig(ops={"bounds": Start(n=2)}))
    assert result.asset_value("high") == 12
    with pytest.raises(ConfigError, match=r"ops\.bounds\.config\.n"):
        dg.materialize_to_memory([bounds])
    with pytest.raises(ConfigError, match=r"ops\.low.*expected one of \[bounds\]"):
        dg.materialize_to_memory([bounds], run_config={"ops": {"low": {"config": {"n": 1}}}})
