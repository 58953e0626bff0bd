"""Source assets with I/O managers: ``SourceAsset(key, io_manager_key=)``,
``AssetSpec(...).with_io_manager_key(...)`` and ``@observable_source_asset``.

Written from Dagster's pages on external (source) assets: a downstream asset loads a source
through the manager the source names (not the default one), that manager's ``load_input``
sees the source's key and metadata in ``context.upstream_output``; a source is never
computed; an observable source's function returns a ``DataVersion`` that a run selecting it
records as an observation.
"""

from __future__ import annotations

from typing import Any

import pytest

import wharf as dg
from wharf.errors import MissingResourceError


class Preloaded(dg.IOManager):
    """Holds data made elsewhere; records what each load saw."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        raise AssertionError("a source asset is never stored")

    def load_input(self, context: dg.InputContext) -> Any:
        up = context.upstream_output
        assert up is not None
        self.seen.append((up.asset_key.to_user_string(), dict(up.definition_metadata)))
        return self.values[context.asset_key.to_user_string()]


def test_source_asset_loads_through_its_io_manager() -> None:
    my_source_asset = dg.SourceAsset(
        key=dg.AssetKey("my_source_asset"), io_manager_key="s3_io_manager",
        metadata={"table": "events"},
    )  # fmt: skip

    @dg.asset
    def my_derived_asset(my_source_asset: list[int]) -> list[int]:
        return [*my_source_asset, 4]

    source = Preloaded({"my_source_asset": [1, 2, 3]})
    defs = dg.Definitions(
        assets=[my_source_asset, my_derived_asset],
        resources={"s3_io_manager": source, "io_manager": dg.InMemoryIOManager()},
    )
    result = defs.materialize()
    assert result.output_for_node("my_derived_asset") == [1, 2, 3, 4]
    assert source.seen == [("my_source_asset", {"table": "events"})]
    assert [o.step_key for o in result.outcomes] == ["my_derived_asset"]  # never computed


def test_asset_spec_with_io_manager_key() -> None:
    spec = dg.AssetSpec("raw_orders", metadata={"owner": "crm"}).with_io_manager_key("crm_io")
    assert spec.metadata["dagster/io_manager_key"] == "crm_io"

    @dg.asset
    def order_count(raw_orders: list[str]) -> int:
        return len(raw_orders)

    crm = Preloaded({"raw_orders": ["a", "b"]})
    result = dg.materialize([spec, order_count],
                            resources={"crm_io": crm, "io_manager": dg.InMemoryIOManager()})  # fmt: skip
    assert result.output_for_node("order_count") == 2
    assert crm.seen[0][0] == "raw_orders"
    assert crm.seen[0][1]["owner"] == "crm"


def test_a_source_whose_manager_is_missing_is_an_error_before_anything_runs() -> None:
    ran: list[str] = []
    source = dg.SourceAsset("feed", io_manager_key="feed_io")

    @dg.asset
    def uses(feed: int) -> int:
        ran.append("uses")
        return feed

    with pytest.raises(MissingResourceError, match=r"'uses'.*'feed_io'"):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[source, uses], resources={}))
    with pytest.raises(MissingResourceError, match=r"'feed_io'"):
        dg.materialize([source, uses])
    assert ran == []


def test_source_asset_with_an_inline_io_manager_def() -> None:
    source = dg.SourceAsset(
        "inline_feed",
        io_manager_def=dg.IOManagerDefinition.hardcoded_io_manager(Preloaded({"inline_feed": 9})),
    )

    @dg.asset
    def plus_one(inline_feed: int) -> int:
        return inline_feed + 1

    assert source.io_manager_key == "inline_feed__io_manager"
    result = dg.materialize([source, plus_one], resources={"io_manager": dg.InMemoryIOManager()})
    assert result.output_for_node("plus_one") == 10


def test_observable_source_asset_records_its_data_version_when_selected() -> None:
    observed: list[str] = []

    @dg.observable_source_asset(io_manager_key="feed_io")
    def feed() -> dg.DataVersion:
        observed.append("feed")
        return dg.DataVersion("v7")

    @dg.asset
    def uses(feed: int) -> int:
        return feed * 2

    resources = {"feed_io": Preloaded({"feed": 21}), "io_manager": dg.InMemoryIOManager()}
    result = dg.materialize([feed, uses], resources=resources)
    assert observed == []  # materializing the assets does not observe the source
    assert result.output_for_node("uses") == 42
    result = dg.materialize([feed, uses], resources=resources, selection=[feed])
    assert observed == ["feed"]
    (event,) = result.get_asset_observation_events()
    assert event.asset_key == dg.AssetKey("feed")
    assert event.event_specific_data.asset_observation.tags["dagster/data_version"] == "v7"


def test_an_observed_data_version_is_kept_in_run_history_and_makes_downstream_stale(
    tmp_path: Any,
) -> None:
    version = ["v1"]

    @dg.observable_source_asset(io_manager_key="feed_io")
    def feed() -> dg.DataVersion:
        return dg.DataVersion(version[0])

    @dg.asset(code_version="1")
    def uses(feed: int) -> int:
        return feed * 2

    resources = {"feed_io": Preloaded({"feed": 21}),
                 "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "files"))}  # fmt: skip
    defs = dg.Definitions(assets=[feed, uses], resources=resources)
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        defs.materialize(selection=[feed, uses], instance=instance)  # observe, then materialize
        assert defs.get_staleness(instance=instance)[dg.AssetKey("uses")].status == "fresh"
        history = instance.run_history()
        assert history is not None
        try:
            (row,) = list(history.for_asset("feed"))
        finally:
            history.close()
        assert (row.status, row.data_version) == ("observed", "v1")
        version[0] = "v2"
        defs.materialize(selection=[feed], instance=instance)
        staleness = defs.get_staleness(instance=instance)[dg.AssetKey("uses")]
        assert staleness.status == "stale"
        assert "feed" in staleness.describe()
