"""Resources: typed config, unknown fields, EnvVar, secrets, lifecycle, missing keys."""

import logging
from typing import Any

import pytest
from pydantic import PrivateAttr

import wharf as dg
from wharf.errors import ConfigError, DefinitionError, MissingEnvVarError, MissingResourceError

SECRET = "hunter2-very-secret"


class Warehouse(dg.ConfigurableResource):
    database: str
    password: str
    port: int = 5432


class Inner(dg.ConfigurableResource):
    token: str


class Outer(dg.ConfigurableResource):
    inner: Inner
    name: str


EVENTS: list[str] = []


class Tracked(dg.ConfigurableResource):
    label: str
    _connected: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        EVENTS.append(f"setup {self.label} key={context.resource_key}")
        self._connected = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        EVENTS.append(f"teardown {self.label}")
        self._connected = False


@pytest.fixture(autouse=True)
def _clear_events() -> None:
    EVENTS.clear()


def test_unknown_config_field_is_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        Warehouse(databse="x", password="p")  # type: ignore[call-arg]
    err = info.value
    assert isinstance(err, ValueError)
    msg = str(err)
    assert "Warehouse" in msg
    assert "'databse'" in msg
    assert "did you mean 'database'?" in msg
    assert "database, password, port" in msg
    assert err.got == "databse"


def test_unknown_field_on_builtin_and_custom_io_managers() -> None:
    with pytest.raises(ConfigError, match=r"'base_dri'.*did you mean 'base_dir'"):
        dg.FilesystemIOManager(base_dri="/tmp")  # type: ignore[call-arg]

    class JsonIO(dg.ConfigurableIOManager):
        root: str

        def handle_output(self, context: dg.OutputContext, obj: Any) -> None: ...
        def load_input(self, context: dg.InputContext) -> Any: ...

    with pytest.raises(ValueError, match="JsonIO got unknown config field 'rot'"):
        JsonIO(rot="x")  # type: ignore[call-arg]


def test_invalid_and_missing_config_values() -> None:
    with pytest.raises(ConfigError, match=r"field 'port'.*got 'abc'"):
        Warehouse(database="d", password="p", port="abc")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="field 'password'"):
        Warehouse(database="d")  # type: ignore[call-arg]


def test_config_is_typed_and_frozen() -> None:
    wh = Warehouse(database="d", password="p", port="6543")  # type: ignore[arg-type]
    assert wh.port == 6543
    assert wh.resource_config == {"database": "d", "password": "p", "port": 6543}
    with pytest.raises(ValueError, match="frozen"):
        wh.port = 1


def test_env_var_resolves_at_run_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WH_PASSWORD", raising=False)
    resource = Warehouse(database="d", password=dg.EnvVar("WH_PASSWORD"))  # defined while unset
    seen: dict[str, Any] = {}

    @dg.asset
    def a(wh: Warehouse) -> int:
        seen["password"] = wh.password
        return 1

    monkeypatch.setenv("WH_PASSWORD", SECRET)
    dg.materialize_to_memory([a], resources={"wh": resource})
    assert seen["password"] == SECRET
    monkeypatch.setenv("WH_PASSWORD", "rotated")
    dg.materialize_to_memory([a], resources={"wh": resource})
    assert seen["password"] == "rotated"


def test_missing_env_var_fails_before_any_asset_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WH_MISSING_PASSWORD", raising=False)
    ran: list[str] = []

    @dg.asset
    def first() -> int:
        ran.append("first")
        return 1

    @dg.asset
    def second(first: int, wh: Warehouse) -> int:
        ran.append("second")
        return first

    resources = {"wh": Warehouse(database="d", password=dg.EnvVar("WH_MISSING_PASSWORD"))}
    with pytest.raises(MissingEnvVarError) as info:
        dg.materialize_to_memory([first, second], resources=resources, raise_on_error=False)
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, ConfigError)
    msg = str(err)
    assert "'WH_MISSING_PASSWORD'" in msg
    assert "'password'" in msg
    assert "'wh'" in msg
    assert ran == []


def test_missing_env_var_in_io_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WH_BASE", raising=False)

    @dg.asset
    def a() -> int:
        return 1

    io = dg.FilesystemIOManager(base_dir=dg.EnvVar("WH_BASE"))
    with pytest.raises(MissingEnvVarError, match=r"'WH_BASE'.*'base_dir'.*'io_manager'"):
        dg.materialize([a], resources={"io_manager": io})


def test_env_var_int(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WH_PORT", "6543")
    monkeypatch.setenv("WH_PASSWORD", SECRET)
    var = dg.EnvVar.int("WH_PORT")
    assert repr(var) == "EnvVar.int('WH_PORT')"
    assert var.get_value() == 6543
    seen: dict[str, Any] = {}

    @dg.asset
    def a(wh: Warehouse) -> int:
        seen["port"] = wh.port
        return 1

    resource = Warehouse(database="d", password=dg.EnvVar("WH_PASSWORD"), port=var)
    dg.materialize_to_memory([a], resources={"wh": resource})
    assert seen["port"] == 6543

    monkeypatch.setenv("WH_PORT", "not-a-number")
    with pytest.raises(ConfigError, match=r"'WH_PORT'.*integer") as info:
        dg.materialize_to_memory([a], resources={"wh": resource})
    assert "not-a-number" not in str(info.value)


def test_env_var_basics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WH_UNSET", raising=False)
    var = dg.EnvVar("WH_UNSET")
    assert var.env_var_name == "WH_UNSET"
    assert var.get_value() is None
    assert var.get_value("fallback") == "fallback"
    with pytest.raises(MissingEnvVarError, match="'WH_UNSET' is not set"):
        var.resolve()


def test_secret_never_in_reprs_logs_or_metadata(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("WH_PASSWORD", SECRET)
    monkeypatch.setenv("WH_TOKEN", SECRET)
    reprs: list[str] = []

    class SecretIO(dg.ConfigurableIOManager):
        api_key: str

        def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
            assert context.resource_config["api_key"] == SECRET  # the manager may use it
            reprs.extend([repr(self), str(self), repr(context)])
            context.log.info("storing with %r", self)
            context.add_output_metadata({"io": repr(self)})

        def load_input(self, context: dg.InputContext) -> Any:
            reprs.append(repr(context))
            return 1

    @dg.asset
    def a(context: dg.AssetExecutionContext, wh: Warehouse, outer: Outer) -> int:
        assert wh.password == SECRET
        assert outer.inner.token == SECRET
        reprs.extend([repr(wh), str(wh), repr(outer), repr(context)])
        context.log.info("connected to %r and %s", wh, outer)
        return 1

    @dg.asset
    def b(a: int) -> int:
        raise RuntimeError("downstream failed")

    resources = {
        "wh": Warehouse(database="d", password=dg.EnvVar("WH_PASSWORD")),
        "outer": Outer(inner=Inner(token=dg.EnvVar("WH_TOKEN")), name="n"),
        "io_manager": SecretIO(api_key=dg.EnvVar("WH_TOKEN")),
    }
    with caplog.at_level(logging.DEBUG):
        result = dg.materialize([a, b], resources=resources, raise_on_error=False)
    assert result.failures
    assert len(reprs) == 8  # a: 4, handle_output(a): 3, load_input(a for b): 1
    assert all(SECRET not in r for r in reprs), reprs
    assert any("password='**********'" in r for r in reprs)
    assert any("Inner(token='**********')" in r for r in reprs)
    assert "connected to" in caplog.text
    assert SECRET not in caplog.text
    for event in result.get_asset_materialization_events():
        assert event.asset_materialization is not None
        for value in event.asset_materialization.metadata.values():
            assert SECRET not in str(value.value)
    unresolved = resources["wh"]
    assert repr(unresolved) == (
        "Warehouse(database='d', password=EnvVar('WH_PASSWORD'), port=5432)"
    )


def test_invalid_env_value_does_not_echo_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WH_PORT_TEXT", SECRET)

    @dg.asset
    def a(wh: Warehouse) -> int:
        return 1

    resource = Warehouse(database="d", password="p", port=dg.EnvVar("WH_PORT_TEXT"))
    with pytest.raises(ConfigError, match="field 'port'") as info:
        dg.materialize_to_memory([a], resources={"wh": resource})
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


def test_setup_and_teardown_once_per_run_even_on_failure() -> None:
    tracked = Tracked(label="db")

    @dg.asset(required_resource_keys={"db"})
    def a(context: dg.AssetExecutionContext) -> int:
        assert context.resources.db._connected
        EVENTS.append("a")
        return 1

    @dg.asset(required_resource_keys={"db"})
    def b(context: dg.AssetExecutionContext, a: int) -> int:
        EVENTS.append("b")
        raise RuntimeError("b failed")

    @dg.asset
    def c(db: Tracked) -> int:
        EVENTS.append("c")
        return 1

    result = dg.materialize_to_memory([a, b, c], resources={"db": tracked}, raise_on_error=False)
    assert not result.success
    assert EVENTS == ["setup db key=db", "a", "b", "c", "teardown db"]
    EVENTS.clear()
    with pytest.raises(RuntimeError, match="b failed"):
        dg.materialize_to_memory([a, b, c], resources={"db": tracked})
    assert EVENTS == ["setup db key=db", "a", "b", "c", "teardown db"]


def test_teardown_runs_when_a_later_setup_fails() -> None:
    class Broken(dg.ConfigurableResource):
        def setup_for_execution(self, context: dg.InitResourceContext) -> None:
            raise ConnectionError("cannot connect")

    @dg.asset(required_resource_keys={"a_db", "b_broken"})
    def x() -> int:
        EVENTS.append("x")
        return 1

    with pytest.raises(ConnectionError):
        dg.materialize_to_memory([x], resources={"a_db": Tracked(label="db"), "b_broken": Broken()})
    assert EVENTS == ["setup db key=a_db", "teardown db"]


def test_unused_resources_are_not_set_up() -> None:
    @dg.asset
    def a() -> int:
        return 1

    dg.materialize_to_memory([a], resources={"db": Tracked(label="db")})
    assert EVENTS == []


def test_nested_resources_with_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WH_TOKEN", "t0k")
    seen: dict[str, Any] = {}

    @dg.asset
    def a(outer: Outer) -> int:
        seen["token"] = outer.inner.token
        seen["name"] = outer.name
        return 1

    resource = Outer(inner=Inner(token=dg.EnvVar("WH_TOKEN")), name="n")
    dg.materialize_to_memory([a], resources={"outer": resource})
    assert seen == {"token": "t0k", "name": "n"}
    monkeypatch.delenv("WH_TOKEN")
    with pytest.raises(MissingEnvVarError, match=r"'WH_TOKEN'.*'outer.inner'"):
        dg.materialize_to_memory([a], resources={"outer": resource})


class Client(dg.ConfigurableResource):
    """A resource holding another: Dagster sets up the inner one first."""

    db: Tracked
    label: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        assert self.db._connected, "the nested resource is set up before its holder"
        EVENTS.append(f"setup {self.label} key={context.resource_key}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        EVENTS.append(f"teardown {self.label}")


class Writer(dg.ConfigurableIOManager):
    db: Tracked

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        assert self.db._connected
        EVENTS.append(f"store {context.asset_key.to_user_string()}")

    def load_input(self, context: dg.InputContext) -> Any:
        return None


def test_nested_resources_are_set_up_first_and_torn_down_last() -> None:
    @dg.asset
    def a(client: Client) -> int:
        assert client.db._connected
        EVENTS.append("a")
        return 1

    dg.materialize_to_memory([a], resources={"client": Client(db=Tracked(label="db"), label="c")})
    assert EVENTS == [
        "setup db key=client.db",
        "setup c key=client",
        "a",
        "teardown c",
        "teardown db",
    ]


def test_a_shared_nested_resource_is_set_up_once() -> None:
    db = Tracked(label="db")

    @dg.asset
    def a(client: Client) -> int:
        return 1

    resources = {"client": Client(db=db, label="c"), "io_manager": Writer(db=db)}
    assert dg.materialize([a], resources=resources, record_history=False).success
    assert EVENTS.count("setup db key=client.db") + EVENTS.count("setup db key=io_manager.db") == 1
    assert EVENTS.count("teardown db") == 1
    assert "store a" in EVENTS
    assert EVENTS[-1] == "teardown db"


def test_a_failing_holder_tears_down_its_nested_resource() -> None:
    class Fragile(Client):
        def setup_for_execution(self, context: dg.InitResourceContext) -> None:
            raise ConnectionError("holder cannot start")

    @dg.asset
    def a(client: Fragile) -> int:
        return 1

    with pytest.raises(ConnectionError, match="holder cannot start"):
        dg.materialize_to_memory(
            [a], resources={"client": Fragile(db=Tracked(label="db"), label="c")}
        )
    assert EVENTS == ["setup db key=client.db", "teardown db"]


@pytest.mark.parametrize(
    ("decorator_kwargs", "role"),
    [
        ({"io_manager_key": "warehouse"}, "io_manager_key 'warehouse'"),
        ({"required_resource_keys": {"api"}}, "resource 'api'"),
    ],
)
def test_resource_key_without_resource(decorator_kwargs: dict[str, Any], role: str) -> None:
    def sales() -> int:
        return 1

    sales_asset = dg.asset(**decorator_kwargs)(sales)
    for build in (
        lambda: dg.Definitions.validate_loadable(
            dg.Definitions(assets=[sales_asset], resources={"other": 1})
        ),
        lambda: dg.materialize([sales_asset], resources={"other": 1}),
    ):
        with pytest.raises(MissingResourceError) as info:
            build()
        err = info.value
        assert isinstance(err, KeyError)
        assert isinstance(err, DefinitionError)
        msg = str(err)
        assert "asset 'sales'" in msg
        assert role in msg
        assert "[io_manager, other]" in msg or "[other]" in msg
        assert err.asset == "sales"


def test_resource_parameter_without_resource() -> None:
    @dg.asset
    def sales(wh: Warehouse) -> int:
        return 1

    with pytest.raises(
        MissingResourceError, match="asset 'sales' needs the resource parameter 'wh'"
    ):
        dg.Definitions(assets=[sales]).validate_resources()


def test_io_manager_key_pointing_at_non_io_manager() -> None:
    @dg.asset(io_manager_key="store")
    def sales() -> int:
        return 1

    with pytest.raises(MissingResourceError, match=r"'store'.*not an I/O manager.*got str"):
        dg.materialize([sales], resources={"store": "oops"})
