"""Source assets: data made elsewhere that assets load through an I/O manager.

``SourceAsset(key, io_manager_key=)`` (Dagster's older form) and
``AssetSpec(key).with_io_manager_key(...)`` (its newer one) are external assets of the graph:
never computed, loaded by a downstream asset through the named manager (whose ``load_input``
sees the source's key and metadata in ``context.upstream_output``). An
``@observable_source_asset`` also has a function that returns the source's ``DataVersion``; a
run that selects it calls the function (one step, nothing stored) and records an
``AssetObservation`` with that data version.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from wharf._core.assets import AssetSpec, inline_io_manager_key
from wharf._core.keys import AssetKey, CoercibleToAssetKey, CoercibleToAssetKeyPrefix
from wharf._core.plan import Step, StepOutput

__all__ = ["SourceAsset", "observable_source_asset"]


class SourceAsset(AssetSpec):
    """An asset made outside these definitions, loaded through ``io_manager_key``.

    Examples:
        >>> raw = SourceAsset("raw_events", io_manager_key="warehouse", metadata={"t": "ev"})
        >>> raw.key, raw.io_manager_key
        (AssetKey(['raw_events']), 'warehouse')
    """

    def __init__(  # noqa: PLR0917 (Dagster's positional order)
        self,
        key: CoercibleToAssetKey,
        metadata: Mapping[str, Any] | None = None,
        io_manager_key: str | None = None,
        io_manager_def: Any = None,
        description: str | None = None,
        partitions_def: Any = None,
        group_name: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        observe_fn: Callable[..., Any] | None = None,
        *,
        op_tags: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        owners: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        required_resource_keys: set[str] | None = None,
        **_: Any,
    ) -> None:
        super().__init__(
            key, description=description, metadata=metadata, group_name=group_name,
            tags=tags, owners=owners, kinds=kinds, partitions_def=partitions_def,
        )  # fmt: skip
        self.resource_defs: dict[str, Any] = dict(resource_defs or {})
        if io_manager_def is not None and io_manager_key is None:
            io_manager_key = inline_io_manager_key(self.key)
        if io_manager_def is not None:
            assert io_manager_key is not None
            self.resource_defs[io_manager_key] = io_manager_def
        self._io_manager_key = io_manager_key or "io_manager"
        self.observe_fn = observe_fn
        self.op_tags = dict(op_tags or {})
        self.required_resource_keys = set(required_resource_keys or ())

    @property
    def io_manager_key(self) -> str:
        return self._io_manager_key

    @property
    def is_observable(self) -> bool:
        return self.observe_fn is not None

    @property
    def op_name(self) -> str:
        return self.key.to_python_identifier()

    def node_steps(self, graph: Any, keys: Sequence[AssetKey]) -> list[Step]:
        """The step that observes this source: its function gives a ``DataVersion``, which
        becomes an ``AssetObservation`` (nothing is stored)."""
        from wharf._core.assets import _is_context_annotation

        assert self.observe_fn is not None
        fn = self.observe_fn
        params = list(inspect.signature(fn).parameters.values())
        context_param = None
        if params and (params[0].name == "context" or _is_context_annotation(params[0].annotation)):
            context_param = params[0].name
        resource_params = {p.name: p.name for p in params if p.name != context_param}
        key = self.key

        def observe(**kwargs: Any) -> Any:
            from wharf._core.events import AssetObservation
            from wharf._core.versions import DataVersion

            version = fn(**kwargs)
            if isinstance(version, DataVersion):
                tags = {"dagster/data_version": version.value}
                return AssetObservation(asset_key=key, tags=tags)
            return version  # an ObserveResult / AssetObservation the function built itself

        return [
            Step(
                key=self.op_name,
                kind="asset",
                label=f"source asset {key.to_user_string()!r}",
                fn=observe,
                inputs=(),
                outputs={
                    "result": StepOutput(
                        "result", None, self.io_manager_key, nothing=True, is_required=False
                    )
                },
                context_param=context_param,
                resource_params=resource_params,
                required_resource_keys=frozenset(self.required_resource_keys),
                node=self,
                partitions_def=self.partitions_def,
            )
        ]

    def __repr__(self) -> str:
        return f"SourceAsset(key={self.key!r}, io_manager_key={self.io_manager_key!r})"


def observable_source_asset(
    observe_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    key: CoercibleToAssetKey | None = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    metadata: Mapping[str, Any] | None = None,
    io_manager_key: str | None = None,
    io_manager_def: Any = None,
    description: str | None = None,
    group_name: str | None = None,
    required_resource_keys: set[str] | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    partitions_def: Any = None,
    **kwargs: Any,
) -> Any:
    """A source asset whose function returns its current ``DataVersion``.

    Examples:
        >>> import wharf as dg
        >>> @observable_source_asset
        ... def feed():
        ...     return dg.DataVersion("v7")
        >>> feed.key, feed.is_observable
        (AssetKey(['feed']), True)
    """

    def wrap(fn: Callable[..., Any]) -> SourceAsset:
        if key is not None:
            asset_key = AssetKey.from_coercible(key)
        else:
            prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])
            asset_key = AssetKey([*prefix, name or fn.__name__])
        return SourceAsset(
            asset_key, metadata=metadata, io_manager_key=io_manager_key,
            io_manager_def=io_manager_def, description=description or inspect.getdoc(fn),
            partitions_def=partitions_def, group_name=group_name, resource_defs=resource_defs,
            observe_fn=fn, required_resource_keys=required_resource_keys, **kwargs,
        )  # fmt: skip

    return wrap(observe_fn) if observe_fn is not None else wrap
