"""Running assets in process: order, inputs per I/O manager, failures, results, history."""

from typing import Any

import pytest

import wharf as dg
from wharf._core.history import RunHistory
from wharf.errors import AssetTypeError, UnknownAssetError


class Recorder(dg.IOManager):
    """An in-memory I/O manager that records every call."""

    def __init__(self, name: str = "rec") -> None:
        self.name = name
        self.values: dict[dg.AssetKey, Any] = {}
        self.stored: list[str] = []
        self.loaded: list[str] = []

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.stored.append(context.asset_key.to_user_string())
        self.values[context.asset_key] = obj
        context.add_output_metadata({"stored_by": self.name})

    def load_input(self, context: dg.InputContext) -> Any:
        self.loaded.append(context.asset_key.to_user_string())
        return self.values[context.asset_key]


def test_runs_in_dependency_order_and_passes_values() -> None:
    calls: list[str] = []

    @dg.asset
    def raw() -> list[int]:
        calls.append("raw")
        return [1, 2, 3]

    @dg.asset
    def doubled(raw: list[int]) -> list[int]:
        calls.append("doubled")
        return [x * 2 for x in raw]

    @dg.asset
    def total(doubled: list[int], raw: list[int]) -> int:
        calls.append("total")
        return sum(doubled) + sum(raw)

    result = dg.materialize([total, doubled, raw], resources={"io_manager": Recorder()})
    assert result.success
    assert calls == ["raw", "doubled", "total"]
    assert result.output_for_node("total") == 18
    assert result.asset_value("doubled") == [2, 4, 6]
    assert result.asset_value(dg.AssetKey("raw")) == [1, 2, 3]


def test_input_loaded_by_the_upstream_assets_io_manager() -> None:
    warehouse, lake = Recorder("warehouse"), Recorder("lake")

    @dg.asset(io_manager_key="warehouse")
    def up() -> int:
        return 41

    @dg.asset(io_manager_key="lake")
    def down(up: int) -> int:
        return up + 1

    result = dg.materialize([up, down], resources={"warehouse": warehouse, "lake": lake})
    assert result.success
    assert warehouse.stored == ["up"]
    assert warehouse.loaded == ["up"]
    assert lake.stored == ["down"]
    assert lake.loaded == []
    assert lake.values[dg.AssetKey("down")] == 42


def test_deps_order_without_loading() -> None:
    rec = Recorder()
    seen: list[str] = []

    @dg.asset
    def first() -> int:
        seen.append("first")
        return 1

    @dg.asset(deps=[first])
    def second() -> int:
        seen.append("second")
        return 2

    assert dg.materialize([second, first], resources={"io_manager": rec}).success
    assert seen == ["first", "second"]
    assert rec.loaded == []


def test_none_and_materialize_result_skip_handle_output() -> None:
    rec = Recorder()

    @dg.asset
    def nothing() -> None:
        return None

    @dg.asset
    def reported() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 3, "note": dg.MetadataValue.md("**x**")})

    @dg.asset
    def with_value() -> dg.MaterializeResult:
        return dg.MaterializeResult(value=[1], metadata={"rows": 1})

    result = dg.materialize([nothing, reported, with_value], resources={"io_manager": rec})
    assert rec.stored == ["with_value"]
    meta = {
        e.asset_key.to_user_string(): e.asset_materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_materialization is not None
    }
    assert set(meta) == {"nothing", "reported", "with_value"}
    assert meta["nothing"] == {}
    assert meta["reported"]["rows"].value == 3
    assert meta["reported"]["note"] == dg.MetadataValue.md("**x**")
    assert meta["with_value"]["rows"].value == 1
    assert meta["with_value"]["stored_by"].value == "rec"


def test_output_metadata_merges_with_io_manager_metadata() -> None:
    @dg.asset
    def sales() -> list[int]:
        return dg.Output([1, 2], metadata={"rows": 2, "source": "api"})

    @dg.asset
    def ctx_meta(context: dg.AssetExecutionContext) -> int:
        context.add_output_metadata({"from_context": True})
        return 1

    result = dg.materialize([sales, ctx_meta], resources={"io_manager": Recorder()})
    (event,) = [e for e in result.get_asset_materialization_events() if e.step_key == "sales"]
    assert event.is_step_materialization
    meta = event.asset_materialization.metadata  # type: ignore[union-attr]
    assert {k: v.value for k, v in meta.items()} == {"rows": 2, "source": "api", "stored_by": "rec"}
    (mat,) = result.asset_materializations_for_node("ctx_meta")
    assert mat.metadata["from_context"].value is True
    assert mat.metadata["stored_by"].value == "rec"


def test_typed_output_is_checked() -> None:
    rec = Recorder()

    @dg.asset
    def typed() -> dg.Output[int]:
        return dg.Output(5)

    @dg.asset(name="typed")
    def typed_bad() -> dg.Output[int]:
        return dg.Output("five")  # type: ignore[arg-type]

    assert dg.materialize([typed], resources={"io_manager": rec}).output_for_node("typed") == 5
    with pytest.raises(AssetTypeError, match="expects int"):
        dg.materialize([typed_bad], resources={"io_manager": rec})
    assert rec.values[dg.AssetKey("typed")] == 5


@pytest.mark.parametrize(
    ("annotation", "value", "expected"),
    [
        (int, "x", "int"),
        (list[int], {"a": 1}, "list[int]"),
        (type(None), 3, "NoneType"),
        (int | None, "s", "int | None"),
    ],
)
def test_wrong_return_type_names_asset_io_manager_expected_and_got(
    annotation: Any, value: Any, expected: str
) -> None:
    rec = Recorder()
    rec.values[dg.AssetKey("sales")] = "old"

    def sales():  # type: ignore[no-untyped-def]
        return value

    sales.__annotations__["return"] = annotation
    sales_asset = dg.asset(io_manager_key="store")(sales)
    with pytest.raises(AssetTypeError) as info:
        dg.materialize([sales_asset], resources={"store": rec})
    err = info.value
    assert isinstance(err, TypeError)
    msg = str(err)
    assert "'sales'" in msg
    assert "'store'" in msg
    assert f"expects {expected}" in msg
    assert f"returned {type(value).__name__}" in msg
    assert (err.asset, err.io_manager, err.expected) == ("sales", "store", expected)
    assert rec.stored == []
    assert rec.values[dg.AssetKey("sales")] == "old"


def test_wrong_output_value_type_is_also_checked() -> None:
    @dg.asset
    def n() -> int:
        return dg.Output("not an int")  # type: ignore[return-value]

    with pytest.raises(TypeError, match="returned str"):
        dg.materialize_to_memory([n])


def test_failure_skips_dependants_and_others_still_run() -> None:
    rec = Recorder()
    ran: list[str] = []

    @dg.asset
    def ok() -> int:
        ran.append("ok")
        return 1

    @dg.asset
    def broken(ok: int) -> int:
        ran.append("broken")
        raise ValueError("source is down")

    @dg.asset
    def child(broken: int) -> int:
        ran.append("child")
        return broken

    @dg.asset(deps=[child])
    def grandchild() -> None:
        ran.append("grandchild")

    @dg.asset
    def zz_independent(ok: int) -> int:
        ran.append("zz_independent")
        return ok

    assets = [ok, broken, child, grandchild, zz_independent]
    result = dg.materialize(assets, resources={"io_manager": rec}, raise_on_error=False)
    assert result.success is False
    assert ran == ["ok", "broken", "zz_independent"]
    failures = {k.to_user_string(): v for k, v in result.failures.items()}
    assert set(failures) == {"broken", "child", "grandchild"}
    assert isinstance(failures["broken"], ValueError)
    assert "source is down" in str(failures["broken"])
    assert failures["child"] == "upstream 'broken' failed"
    assert failures["grandchild"] == "upstream 'child' was skipped"
    statuses = {o.key.to_user_string(): o.status for o in result.outcomes}
    assert statuses == {
        "ok": "success",
        "broken": "failed",
        "child": "skipped",
        "grandchild": "skipped",
        "zz_independent": "success",
    }
    assert rec.stored == ["ok", "zz_independent"]
    assert [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()] == [
        "ok",
        "zz_independent",
    ]


def test_raise_on_error_raises_the_original_type_after_the_others_ran() -> None:
    ran: list[str] = []

    class SourceDown(Exception):
        pass

    @dg.asset
    def a_broken() -> int:
        raise SourceDown("503")

    @dg.asset
    def b_fine() -> int:
        ran.append("b_fine")
        return 1

    with pytest.raises(SourceDown, match="503") as info:
        dg.materialize_to_memory([a_broken, b_fine])
    assert ran == ["b_fine"]
    assert any("a_broken" in note for note in info.value.__notes__)


def test_history_records_each_materialization() -> None:
    @dg.asset
    def good() -> int:
        return dg.Output(1, metadata={"rows": 1})

    @dg.asset
    def bad(good: int) -> int:
        raise RuntimeError("nope")

    @dg.asset
    def after(bad: int) -> int:
        return bad

    result = dg.materialize(
        [good, bad, after], resources={"io_manager": Recorder()}, raise_on_error=False
    )
    history = RunHistory()
    try:
        records = {r.asset_key: r for r in history.for_run(result.run_id)}
    finally:
        history.close()
    assert set(records) == {"good", "bad", "after"}
    assert {k: r.status for k, r in records.items()} == {
        "good": "success",
        "bad": "failed",
        "after": "skipped",
    }
    assert all(r.run_id == result.run_id for r in records.values())
    assert records["good"].metadata == {"rows": 1, "stored_by": "rec"}
    assert records["good"].duration_s >= 0
    assert records["good"].io_manager == "io_manager"
    assert "nope" in (records["bad"].error or "")


def test_a_step_reads_the_history_rows_of_the_steps_before_it() -> None:
    seen: list[str | None] = []

    @dg.asset
    def first() -> int:
        return 1

    @dg.asset
    def second(first: int) -> int:
        with RunHistory() as history:
            row = history.last("first")
        seen.append(row.run_id if row is not None else None)
        return first

    result = dg.materialize([first, second], resources={"io_manager": Recorder()})
    assert seen == [result.run_id]
    with RunHistory() as history:
        assert [r.asset_key for r in history.for_run(result.run_id)] == ["first", "second"]


def test_history_lives_under_wharf_home(wharf_home: Any) -> None:
    @dg.asset
    def one() -> int:
        return 1

    dg.materialize([one], resources={"io_manager": Recorder()})
    assert (wharf_home / "history.sqlite").is_file()


def test_selection_runs_subset_and_unknown_key_is_an_error() -> None:
    rec = Recorder()
    ran: list[str] = []

    @dg.asset
    def a() -> int:
        ran.append("a")
        return 1

    @dg.asset
    def b(a: int) -> int:
        ran.append("b")
        return a + 1

    dg.materialize([a, b], resources={"io_manager": rec}, selection=[a])
    result = dg.materialize([a, b], resources={"io_manager": rec}, selection=["b"])
    assert ran == ["a", "b"]
    assert result.output_for_node("b") == 2
    with pytest.raises(UnknownAssetError) as info:
        dg.materialize([a, b], resources={"io_manager": rec}, selection=["c"])
    assert isinstance(info.value, KeyError)
    assert "'c'" in str(info.value)
    assert ran == ["a", "b"]


def test_result_lookups_of_unknown_assets() -> None:
    @dg.asset
    def a() -> int:
        return 1

    result = dg.materialize_to_memory([a])
    with pytest.raises(KeyError, match="'zz'"):
        result.output_for_node("zz")
    with pytest.raises(UnknownAssetError, match="was not part of run"):
        result.asset_value("zz")


def test_materialize_to_memory_overrides_io_managers() -> None:
    custom = Recorder()

    @dg.asset(io_manager_key="warehouse")
    def up() -> list[int]:
        return [1]

    @dg.asset
    def down(up: list[int]) -> int:
        return len(up)

    result = dg.materialize_to_memory([up, down], resources={"warehouse": custom})
    assert result.success
    assert result.output_for_node("down") == 1
    assert result.asset_value("up") == [1]
    assert custom.stored == []


def test_materialize_to_memory_keeps_other_resources() -> None:
    @dg.asset(required_resource_keys={"factor"})
    def scaled(context: dg.AssetExecutionContext) -> int:
        return 2 * context.resources.factor

    assert (
        dg.materialize_to_memory([scaled], resources={"factor": 21}).output_for_node("scaled") == 42
    )


def test_required_resource_keys_and_plain_object_resources() -> None:
    class Client:
        def fetch(self) -> list[int]:
            return [1, 2]

    @dg.asset(required_resource_keys={"client", "prefix"})
    def fetched(context: dg.AssetExecutionContext) -> str:
        assert "client" in context.resources
        return context.resources.prefix + str(context.resources.client.fetch())

    result = dg.materialize_to_memory([fetched], resources={"client": Client(), "prefix": "got "})
    assert result.output_for_node("fetched") == "got [1, 2]"


def test_undeclared_resource_in_context_is_a_clear_error() -> None:
    @dg.asset
    def a(context: dg.AssetExecutionContext) -> int:
        return context.resources.missing  # type: ignore[no-any-return]

    result = dg.materialize_to_memory([a], raise_on_error=False)
    err = result.failures[dg.AssetKey("a")]
    assert isinstance(err, KeyError)
    assert "'missing'" in str(err)


def test_resource_param_annotation() -> None:
    class Client:
        value = 7

    @dg.asset
    def a(client: dg.ResourceParam[Client]) -> int:
        return client.value

    assert a.inputs == ()
    assert dg.materialize_to_memory([a], resources={"client": Client()}).output_for_node("a") == 7


def test_context_has_run_id_and_asset_key() -> None:
    seen: dict[str, Any] = {}

    @dg.asset(key_prefix="p")
    def a(context: dg.AssetExecutionContext) -> int:
        seen["key"] = context.asset_key
        seen["run_id"] = context.run_id
        seen["log"] = context.log
        return 1

    @dg.asset(key_prefix="p")
    def b(context: dg.AssetExecutionContext, a: int) -> int:
        seen["input_key"] = context.asset_key_for_input("a")
        return a

    result = dg.materialize_to_memory([a, b])
    assert seen["key"] == dg.AssetKey(["p", "a"])
    assert seen["run_id"] == result.run_id
    assert seen["input_key"] == dg.AssetKey(["p", "a"])
    assert seen["log"].name == "wharf.asset"  # a child of "wharf" whose lines each step captures


def test_asset_in_key_remapping_runs() -> None:
    @dg.asset(key=["src", "raw_sales_data"])
    def raw() -> list[int]:
        return [5]

    @dg.asset(ins={"rows": dg.AssetIn(key=["src", "raw_sales_data"])})
    def clean(rows: list[int]) -> list[int]:
        return rows * 2

    assert dg.materialize_to_memory([raw, clean]).output_for_node("clean") == [5, 5]


def test_key_prefix_inputs_run() -> None:
    @dg.asset(key_prefix=["wh"])
    def raw() -> int:
        return 1

    @dg.asset(key_prefix=["wh"])
    def clean(raw: int) -> int:
        return raw + 1

    result = dg.materialize_to_memory([raw, clean])
    assert result.asset_value(["wh", "clean"]) == 2
    assert result.output_for_node("wh__clean") == 2


def test_unannotated_context_parameter_is_injected() -> None:
    @dg.asset
    def a(context) -> str:  # type: ignore[no-untyped-def]
        return context.asset_key.to_user_string()  # type: ignore[no-any-return]

    assert dg.materialize_to_memory([a]).output_for_node("a") == "a"


def test_asset_value_of_a_failed_or_skipped_asset_is_an_error_not_a_stale_value(
    tmp_path: Any,
) -> None:
    from wharf.errors import AssetExecutionError

    fail = {"now": False}

    @dg.asset
    def up() -> int:
        if fail["now"]:
            raise ValueError("source is down")
        return 1

    @dg.asset
    def down(up: int) -> int:
        return up + 1

    io = dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))
    assert dg.materialize([up, down], resources={"io_manager": io}).asset_value("down") == 2
    fail["now"] = True
    result = dg.materialize([up, down], resources={"io_manager": io}, raise_on_error=False)
    with pytest.raises(AssetExecutionError, match=r"asset 'up' failed in run .*source is down"):
        result.asset_value("up")
    with pytest.raises(AssetExecutionError, match=r"asset 'down' skipped") as info:
        result.output_for_node("down")
    assert info.value.asset == "down"
    assert isinstance(result.outcome("up").error, ValueError)


class _Panic(BaseException):
    """Like pyo3's PanicException (a Rust library's panic): a BaseException, not an Exception."""


def test_a_library_panic_fails_its_asset_and_the_run_goes_on() -> None:
    @dg.asset
    def panics() -> int:
        raise _Panic("called `Result::unwrap()` on an `Err` value")

    @dg.asset
    def after(panics: int) -> int:
        return panics

    @dg.asset
    def other() -> int:
        return 1

    result = dg.materialize_to_memory([panics, after, other], raise_on_error=False)
    status = {o.key.to_user_string(): o.status for o in result.outcomes}
    assert status == {"panics": "failed", "after": "skipped", "other": "success"}
    assert isinstance(result.failures[dg.AssetKey("panics")], _Panic)
    with pytest.raises(_Panic):
        dg.materialize_to_memory([panics])


def test_keyboard_interrupt_still_stops_the_run() -> None:
    @dg.asset
    def interrupted() -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dg.materialize_to_memory([interrupted], raise_on_error=False)


def test_history_metadata_keeps_column_order() -> None:
    from wharf._core.results import MetadataValue, metadata_to_json

    text = metadata_to_json(
        {"schema": MetadataValue.table_schema({"owner": "str", "amount": "f8"})}
    )
    assert text.index('"owner"') < text.index('"amount"')  # as the table has them, not sorted


def test_history_keeps_each_metadata_entrys_kind_beside_its_value(tmp_path: Any) -> None:
    import sqlite3

    @dg.asset
    def documented() -> int:
        notes = dg.MetadataValue.md("# Notes")
        link = dg.MetadataValue.url("https://example.com")
        return dg.Output(1, metadata={"notes": notes, "link": link, "n": 3, "label": "plain"})

    result = dg.materialize([documented], resources={"io_manager": Recorder()})
    with RunHistory() as history:
        (record,) = history.for_run(result.run_id)
    assert record.metadata["notes"] == "# Notes"
    # text and numbers tell their kind by their JSON value; markdown and links do not
    assert record.metadata_kinds == {"notes": "md", "link": "url"}
    # a history file from before the column opens, and its rows have no kinds
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as conn:
        conn.execute(
            "CREATE TABLE materializations (run_id TEXT NOT NULL, asset_key TEXT NOT NULL, "
            "partition_key TEXT, status TEXT NOT NULL, started_at REAL NOT NULL, duration_s REAL "
            "NOT NULL, io_manager TEXT, metadata TEXT NOT NULL, error TEXT)"
        )
        conn.execute("INSERT INTO materializations VALUES ('r', 'a', NULL, 'success', 1, 1, "
                     "NULL, '{}', NULL)")  # fmt: skip
    with RunHistory(old) as history:
        found = history.last("a")
    assert found is not None
    assert found.metadata_kinds is None
