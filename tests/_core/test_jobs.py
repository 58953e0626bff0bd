"""define_asset_job, Definitions(jobs=, schedules=, sensors=, loggers=, executor=) checks,
get_job_def, the implicit asset job, the repository view, loaders and with_resources."""

from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path

import pytest

import wharf as dg
from wharf.errors import DefinitionError, UnknownAssetError


# Dagster's "asset jobs" documentation example, imports changed only.
@dg.asset
def sugary_cereals() -> None:
    pass


@dg.asset(deps=[sugary_cereals])
def shopping_list() -> None:
    pass


all_assets_job = dg.define_asset_job(name="all_assets_job")
sugary_cereals_job = dg.define_asset_job(name="sugary_cereals_job", selection="sugary_cereals")


def test_documented_asset_jobs_run() -> None:
    defs = dg.Definitions(
        assets=[sugary_cereals, shopping_list], jobs=[all_assets_job, sugary_cereals_job]
    )
    result = defs.get_job_def("all_assets_job").execute_in_process()
    assert result.success
    assert [o.key.to_user_string() for o in result.outcomes] == ["sugary_cereals", "shopping_list"]
    only = defs.get_job_def("sugary_cereals_job").execute_in_process()
    assert [o.key.to_user_string() for o in only.outcomes] == ["sugary_cereals"]
    implicit = defs.resolve_implicit_global_asset_job_def()
    assert implicit.name == "__ASSET_JOB"
    assert len(implicit.asset_keys) == 2
    assert sorted(j.name for j in defs.jobs) == ["all_assets_job", "sugary_cereals_job"]


def test_job_with_asset_selection_object_and_subset() -> None:
    job = dg.define_asset_job(
        "downstream_job",
        selection=dg.AssetSelection.assets(sugary_cereals).downstream(),
        tags={"team": "food"},
        description="everything after cereals",
    )
    defs = dg.Definitions(assets=[sugary_cereals, shopping_list], jobs=[job])
    job_def = defs.get_job_def("downstream_job")
    assert job_def.tags == {"team": "food"}
    assert job_def.description == "everything after cereals"
    result = job_def.execute_in_process(asset_selection=[shopping_list.key])
    assert [o.key.to_user_string() for o in result.outcomes] == ["shopping_list"]


def test_unknown_job_and_selection_errors_name_them() -> None:
    defs = dg.Definitions(assets=[sugary_cereals], jobs=[sugary_cereals_job])
    with pytest.raises(UnknownAssetError, match=r"no job named 'nope'.*sugary_cereals_job"):
        defs.get_job_def("nope")
    bad = dg.define_asset_job("bad_job", selection="cereal")
    with pytest.raises(UnknownAssetError, match="'cereal'") as info:
        dg.Definitions(assets=[sugary_cereals], jobs=[bad])
    assert "in the selection of job 'bad_job'" in info.value.__notes__


@pytest.mark.parametrize("name", ["has space", "", "dash-ed", 3])
def test_job_names_are_checked(name: object) -> None:
    with pytest.raises(DefinitionError, match=r"job name .* is not valid"):
        dg.define_asset_job(name)  # type: ignore[arg-type]


def test_job_arguments_are_checked() -> None:
    with pytest.raises(DefinitionError, match="expected an executor"):
        dg.define_asset_job("j", executor_def="fast")
    with pytest.raises(DefinitionError, match="job 'j': tags= must be a mapping"):
        dg.define_asset_job("j", tags=["a"])  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="is not valid"):
        dg.define_asset_job("j", selection="a and")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"jobs": ["x"]}, r"jobs=\[...\]\) entry 0 is 'x' \(str\): expected a job"),
        ({"jobs": "x"}, r"jobs='x'\): expected a list"),
        ({"sensors": [1]}, r"sensors=\[...\]\) entry 0 is 1 \(int\): expected a SensorDefinition"),
        ({"schedules": [sugary_cereals]}, "expected a ScheduleDefinition"),
        ({"asset_checks": [object()]}, "expected an asset check"),
        ({"loggers": {"x": logging.getLogger("x")}}, "loggers=...\\) entry 'x'.*LoggerDefinition"),
        ({"loggers": ["x"]}, r"loggers=\['x'\]\): expected a dict"),
        ({"resources": {1: "x"}}, "key 1 is not a str"),
        ({"executor": "multiprocess"}, "expected an executor"),
        ({"jobs": [all_assets_job, dg.define_asset_job("all_assets_job", "sugary_cereals")]},
         "two entries named 'all_assets_job'"),
    ],
)  # fmt: skip
def test_definitions_checks_every_entry(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(DefinitionError, match=match):
        dg.Definitions(assets=[sugary_cereals], **kwargs)  # type: ignore[arg-type]


def test_schedules_and_sensors_bring_their_jobs() -> None:
    schedule = dg.ScheduleDefinition(job=sugary_cereals_job, cron_schedule="0 0 * * *")
    sensor = dg.SensorDefinition(evaluation_fn=lambda ctx: None, name="s", job=all_assets_job)
    defs = dg.Definitions(
        assets=[sugary_cereals, shopping_list], schedules=[schedule], sensors=[sensor]
    )
    assert schedule.name == "sugary_cereals_job_schedule"
    assert sorted(j.name for j in defs.jobs) == ["all_assets_job", "sugary_cereals_job"]
    assert defs.get_schedule_def("sugary_cereals_job_schedule") is schedule
    repo = defs.get_repository_def()
    assert repo.job_names == ["all_assets_job", "sugary_cereals_job"]
    assert repo.get_job("all_assets_job").name == "all_assets_job"
    assert set(repo.asset_graph.by_key) == {sugary_cereals.key, shopping_list.key}
    assert repo.schedule_defs == [schedule]
    dangling = dg.ScheduleDefinition(job_name="missing_job", cron_schedule="@daily")
    with pytest.raises(DefinitionError, match="schedule 'missing_job_schedule' targets job"):
        dg.Definitions(assets=[sugary_cereals], schedules=[dangling])


def test_schedule_and_sensor_arguments_are_checked() -> None:
    with pytest.raises(DefinitionError, match="not a cron string"):
        dg.ScheduleDefinition(job=all_assets_job, cron_schedule="every day")
    with pytest.raises(DefinitionError, match="job='all_assets_job' is not a job"):
        dg.ScheduleDefinition(job="all_assets_job", cron_schedule="@daily")
    with pytest.raises(DefinitionError, match="expected job= or job_name="):
        dg.ScheduleDefinition(cron_schedule="@daily")
    with pytest.raises(DefinitionError, match="evaluation_fn=None is not callable"):
        dg.SensorDefinition(name="s")
    with pytest.raises(DefinitionError, match="minimum_interval_seconds"):
        dg.SensorDefinition(name="s", evaluation_fn=print, minimum_interval_seconds=0)


def test_asset_value_loader_and_repository(tmp_path: Path) -> None:
    @dg.asset
    def three() -> int:
        return 3

    @dg.asset
    def four(three: int) -> int:
        return three + 1

    defs = dg.Definitions(assets=[three, four])
    assert defs.materialize().success
    with defs.get_asset_value_loader() as loader:
        assert loader.load_asset_value("three") == 3
        assert loader.load_asset_value(dg.AssetKey("four")) == 4


def test_with_resources_binds_resources_to_assets() -> None:
    class Greeting(dg.ConfigurableResource):
        word: str

    @dg.asset(required_resource_keys={"greeting"})
    def hello(context: dg.AssetExecutionContext) -> str:
        return context.resources.greeting.word

    memory = dg.InMemoryIOManager()
    bound = dg.with_resources([hello], {"greeting": Greeting(word="hi"), "io_manager": memory})
    assert hello.resource_defs == {}  # the original is unchanged
    result = dg.materialize(bound)
    assert result.output_for_node("hello") == "hi"
    defs = dg.Definitions(assets=bound)
    assert defs.get_job_def("__ASSET_JOB").execute_in_process().output_for_node("hello") == "hi"
    with pytest.raises(
        DefinitionError, match="bound \\(with_resources\\) to a resource 'greeting'"
    ):
        dg.Definitions(assets=bound, resources={"greeting": Greeting(word="other")})


def test_load_assets_from_modules_and_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "mypkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "first.py").write_text(
        textwrap.dedent("""
        import wharf as dg

        @dg.asset
        def alpha() -> int:
            return 1

        ALIAS = alpha  # the same asset twice is kept once
    """)
    )
    (pkg / "sub" / "second.py").write_text(
        textwrap.dedent("""
        import wharf as dg
        from mypkg.first import alpha

        @dg.asset
        def beta(alpha: int) -> int:
            return alpha + 1

        here = dg.load_assets_from_current_module()
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import mypkg
    import mypkg.first

    first = dg.load_assets_from_modules([mypkg.first])
    assert [a.key.to_user_string() for a in first] == ["alpha"]
    every = dg.load_assets_from_package_module(mypkg)
    assert sorted(a.key.to_user_string() for a in every) == ["alpha", "beta"]
    assert {a.key.to_user_string() for a in sys.modules["mypkg.sub.second"].here} == {
        "alpha",
        "beta",
    }
    grouped = dg.load_assets_from_package_name("mypkg", group_name="g", key_prefix="p")
    assert sorted(a.key.to_user_string() for a in grouped) == ["p/alpha", "p/beta"]
    assert {a.group_name for a in grouped} == {"g"}
    result = dg.materialize_to_memory(grouped)
    assert result.output_for_node("p__beta") == 2
    with pytest.raises(DefinitionError, match="is not a module"):
        dg.load_assets_from_modules(["mypkg.first"])  # type: ignore[list-item]


def test_file_relative_path() -> None:
    assert dg.file_relative_path("/a/b/defs.py", "data/x.csv") == "/a/b/data/x.csv"
