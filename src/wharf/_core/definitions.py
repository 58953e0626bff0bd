"""``Definitions``: the assets and resources of a code location, validated together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from wharf._core.assets import AssetsDefinition
from wharf._core.graph import AssetGraph
from wharf._core.keys import to_asset_key
from wharf._core.resources import DEFAULT_IO_MANAGER_KEY, check_resource_keys
from wharf.errors import UnknownAssetError


class Definitions:
    """Assets and the resources (I/O managers among them) they run with.

    Validated when built: duplicate keys, cycles, inputs that name no asset and resource keys
    without a resource are errors here, before anything runs.

    Examples:
        >>> import wharf as dg
        >>> @dg.asset
        ... def numbers() -> list[int]:
        ...     return [1, 2, 3]
        >>> io = dg.InMemoryIOManager()
        >>> defs = dg.Definitions(assets=[numbers], resources={"io_manager": io})
        >>> defs.materialize().success
        True
    """

    def __init__(
        self,
        assets: Iterable[Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        executor: Any = None,
        *,
        schedules: Iterable[Any] | None = None,
        sensors: Iterable[Any] | None = None,
        jobs: Iterable[Any] | None = None,
        asset_checks: Iterable[Any] | None = None,
        loggers: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.assets = list(assets or [])
        self.resources = dict(resources or {})
        self.executor = executor
        self.metadata = dict(metadata or {})
        self.asset_graph = AssetGraph(self.assets)
        check_resource_keys(self.asset_graph, {*self.resources, DEFAULT_IO_MANAGER_KEY})

    def get_assets_def(self, key: Any) -> AssetsDefinition:
        """The asset definition with this key."""
        item = self._item(key)
        if not isinstance(item, AssetsDefinition):
            name = item.key.to_user_string()
            msg = f"{name!r} is an AssetSpec (made elsewhere), not an asset these definitions run"
            raise UnknownAssetError(msg, asset=name, expected="an @asset", got="AssetSpec")
        return item

    def _item(self, key: Any) -> Any:
        """The asset or spec with this key."""
        asset_key = to_asset_key(key) if not isinstance(key, str) else to_asset_key(key.split("/"))
        item = self.asset_graph.by_key.get(asset_key)
        if item is None:
            known = ", ".join(sorted(k.to_user_string() for k in self.asset_graph.by_key))
            msg = (
                f"no asset {asset_key.to_user_string()!r} in these definitions: "
                f"expected one of [{known}]"
            )
            raise UnknownAssetError(msg, asset=asset_key.to_user_string(), expected=known)
        return item

    def materialize(self, selection: Any = None, **kwargs: Any) -> Any:
        """Materialize these definitions' assets (or a selection) with their resources."""
        from wharf._core.materialize import materialize

        kwargs.setdefault("executor", self.executor)
        return materialize(self.assets, self.resources, selection, **kwargs)

    def load_asset_value(
        self,
        asset_key: Any,
        *,
        python_type: Any = Any,
        partition_key: str | None = None,
        instance: Any = None,
    ) -> Any:
        """Load an asset's stored value through its I/O manager, outside any run, as
        ``python_type`` (by default the asset's return annotation).

        For a partitioned asset: ``partition_key``'s partition, or every partition without one.
        """
        from wharf._core.execution import RunContext, load_asset_input, new_run_id
        from wharf._core.resources import RunResources, io_manager_key_of, with_default_io_manager

        asset = self._item(asset_key)  # an AssetSpec too: its value is loaded, not computed
        key = asset.key
        if python_type is Any and isinstance(asset, AssetsDefinition):
            python_type = asset.return_annotation  # as ExecuteInProcessResult.asset_value
        im_key = io_manager_key_of(self.asset_graph, key)
        with RunResources(with_default_io_manager(self.resources), [im_key], new_run_id()) as res:
            run = RunContext(self.asset_graph, res, res.run_id, partition_key, instance)
            partitions = run.upstream_partitions(key, None)
            return load_asset_input(run, key, annotation=python_type, partitions=partitions)
