"""Assets: the ``@asset`` decorator, ``AssetsDefinition``, ``AssetSpec`` and ``AssetIn``."""

from __future__ import annotations

import contextlib
import copy
import inspect
import sys
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar, overload

from wharf._core.keys import (
    AssetKey,
    CoercibleToAssetKey,
    CoercibleToAssetKeyPrefix,
    check_safe_name,
    to_asset_key,
)
from wharf._core.partitioning.definitions import PartitionsDefinition, check_partitions_def
from wharf._core.partitioning.mappings import PartitionMapping
from wharf.errors import DefinitionError, WharfError


class DefinitionTypeError(DefinitionError, TypeError):
    """An unknown ``@asset`` argument (also a ``TypeError``, as a bad keyword is)."""


T = TypeVar("T")
_RESOURCE_MARK = "wharf.resource_param"


class ResourceParam(Generic[T]):
    """Mark a parameter as a resource: ``def a(client: ResourceParam[Client])``."""

    def __class_getitem__(cls, item: Any) -> Any:
        return Annotated[item, _RESOURCE_MARK]


@dataclass(frozen=True)
class AssetIn:
    """How a parameter maps to an upstream asset, and metadata for its I/O manager.

    Examples:
        >>> AssetIn(key="raw", metadata={"columns": ["a"]}).key
        AssetKey(['raw'])
    """

    key: AssetKey | None = None
    metadata: Mapping[str, Any] | None = None
    key_prefix: CoercibleToAssetKeyPrefix | None = None
    dagster_type: Any = None
    partition_mapping: Any = None
    input_manager_key: str | None = None

    def __init__(  # noqa: PLR0917 (Dagster's positional order)
        self,
        key: CoercibleToAssetKey | None = None,
        metadata: Mapping[str, Any] | None = None,
        key_prefix: CoercibleToAssetKeyPrefix | None = None,
        input_manager_key: str | None = None,
        partition_mapping: Any = None,
        dagster_type: Any = None,
    ) -> None:
        object.__setattr__(self, "input_manager_key", input_manager_key)
        object.__setattr__(self, "key", to_asset_key(key) if key is not None else None)
        object.__setattr__(self, "metadata", dict(metadata or {}))
        object.__setattr__(self, "key_prefix", key_prefix)
        object.__setattr__(self, "dagster_type", dagster_type)
        if partition_mapping is not None and not isinstance(partition_mapping, PartitionMapping):
            msg = f"AssetIn(partition_mapping={partition_mapping!r}): expected a PartitionMapping"
            raise DefinitionError(
                msg, expected="a PartitionMapping", got=type(partition_mapping).__name__
            )
        object.__setattr__(self, "partition_mapping", partition_mapping)


@dataclass(frozen=True)
class AssetInput:
    """One loaded input of an asset: the parameter, the upstream key, how to load it."""

    param: str
    key: AssetKey
    annotation: Any
    metadata: Mapping[str, Any]
    partition_mapping: PartitionMapping | None = None
    #: load through this input manager instead of the upstream's I/O manager
    input_manager_key: str | None = None


@dataclass
class AssetSpec:
    """An asset's description without a function: external data, or a ``deps`` target.

    Examples:
        >>> AssetSpec("raw_sales_data").key
        AssetKey(['raw_sales_data'])
    """

    key: AssetKey
    deps: list[AssetKey] = field(default_factory=list)
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    group_name: str | None = None
    code_version: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    owners: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    partitions_def: PartitionsDefinition | None = None
    skippable: bool = False
    automation_condition: Any = None

    def __init__(
        self,
        key: CoercibleToAssetKey,
        *,
        deps: Iterable[Any] | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        group_name: str | None = None,
        code_version: str | None = None,
        tags: Mapping[str, str] | None = None,
        owners: Sequence[str] | None = None,
        kinds: Iterable[str] | None = None,
        partitions_def: Any = None,
        skippable: bool = False,
        automation_condition: Any = None,
    ) -> None:
        self.key = to_asset_key(key)
        self.deps = [to_asset_key(d) for d in deps or ()]
        self.description = description
        self.metadata = dict(metadata or {})
        self.group_name = group_name
        self.code_version = code_version
        self.tags = dict(tags or {})
        self.owners = list(owners or ())
        self.kinds = set(kinds or ())
        self.partitions_def = check_partitions_def(partitions_def, asset=self.key.to_user_string())
        self.skippable = skippable
        self.automation_condition = automation_condition

    @property
    def io_manager_key(self) -> str:
        """The I/O manager that loads this asset downstream (``with_io_manager_key``)."""
        return str(self.metadata.get(IO_MANAGER_KEY_METADATA, "io_manager"))

    def with_io_manager_key(self, io_manager_key: str) -> AssetSpec:
        """A copy whose value downstream assets load through ``io_manager_key`` (kept, as in
        Dagster, as the ``dagster/io_manager_key`` metadata entry).

        Examples:
            >>> AssetSpec("raw").with_io_manager_key("warehouse").io_manager_key
            'warehouse'
        """
        out = copy.copy(self)
        out.metadata = {**self.metadata, IO_MANAGER_KEY_METADATA: io_manager_key}
        return out

    def replace_attributes(self, **changes: Any) -> AssetSpec:
        """A copy with ``changes`` (``key``, ``deps``, ``metadata``, ``group_name``, ...)."""
        out = copy.copy(self)
        fresh = AssetSpec(changes.pop("key", self.key), deps=changes.pop("deps", self.deps))
        out.key, out.deps = fresh.key, fresh.deps
        for name, value in changes.items():
            if not hasattr(out, name) or name == "io_manager_key":
                msg = f"AssetSpec.replace_attributes: unknown attribute {name!r}"
                raise DefinitionTypeError(msg, asset=self.key.to_user_string(), got=name)
            setattr(out, name, value)
        return out


def inline_io_manager_key(key: AssetKey) -> str:
    """The resource key an I/O manager given inline (``io_manager_def=``) is bound under, as
    Dagster makes it: ``<asset key as identifier>__io_manager``."""
    return f"{key.to_python_identifier()}__io_manager"


#: where an ``AssetSpec`` keeps the key of the I/O manager that loads it, as Dagster does
IO_MANAGER_KEY_METADATA = "dagster/io_manager_key"


class AssetsDefinition:
    """An asset built by ``@asset``: its function, key, inputs, deps and I/O manager key.

    Call it like the function to test it directly.
    """

    def __init__(
        self,
        *,
        fn: Callable[..., Any],
        key: AssetKey,
        inputs: Sequence[AssetInput],
        deps: Sequence[AssetKey],
        io_manager_key: str,
        resource_params: Mapping[str, str],
        required_resource_keys: set[str],
        context_param: str | None,
        return_annotation: Any,
        metadata: Mapping[str, Any],
        group_name: str | None,
        description: str | None,
        code_version: str | None,
        tags: Mapping[str, str],
        partitions_def: Any = None,
        config_param: str | None = None,
        config_type: Any = None,
        config_schema: Any = None,
    ) -> None:
        self.fn = fn
        self.key = key
        self.inputs = tuple(inputs)
        self.deps = tuple(deps)
        self.io_manager_key = io_manager_key
        self.resource_params = dict(resource_params)
        self.required_resource_keys = set(required_resource_keys) | set(resource_params.values())
        self.context_param = context_param
        self.return_annotation = return_annotation
        self.metadata = dict(metadata)
        self.group_name = group_name or "default"
        self.description = description
        self.code_version = code_version
        self.tags = dict(tags)
        #: resources bound by ``with_resources``; a run of this asset uses them
        self.resource_defs: dict[str, Any] = {}
        #: the parameter that receives the run's ``Config`` (of ``config_type``), if any
        self.config_param = config_param
        self.config_type = config_type
        #: Dagster's older ``config_schema=`` (read through ``context.op_config``)
        self.config_schema = config_schema
        self.owners: list[str] = []
        self.kinds: set[str] = set()
        self.compute_kind: str | None = None
        self.retry_policy: Any = None
        self.automation_condition: Any = None
        self.freshness_policy: Any = None
        self.backfill_policy: Any = None
        self.op_tags: dict[str, Any] = {}
        self.pool: str | None = None
        self.check_specs: list[Any] = []
        self.output_required: bool = True
        self.dagster_type: Any = None
        self.partitions_def = check_partitions_def(partitions_def, asset=key.to_user_string())

    @property
    def keys(self) -> set[AssetKey]:
        return {self.key}

    @property
    def op_name(self) -> str:
        return self.key.to_python_identifier()

    @property
    def node_def(self) -> AssetsDefinition:
        return self

    @property
    def name(self) -> str:
        return self.op_name

    @property
    def upstream_keys(self) -> tuple[AssetKey, ...]:
        """Loaded inputs first, then ``deps``; each key once. An asset of a multi-asset with
        ``internal_asset_deps`` depends on the keys given there only."""
        internal = getattr(self, "internal_upstream", None)
        if internal is not None:
            return tuple(internal)
        seen: dict[AssetKey, None] = {i.key: None for i in self.inputs}
        seen.update((d, None) for d in self.deps)
        return tuple(seen)

    @staticmethod
    def from_graph(graph_def: Any, **kwargs: Any) -> AssetsDefinition:
        """Assets computed by a graph of ops (``keys_by_input_name``, ``keys_by_output_name``,
        ``key_prefix``, ``group_name``, ``metadata_by_output_name``, ``partitions_def``,
        ``can_subset``); see :mod:`wharf._core.graph_assets`."""
        from wharf._core.graph_assets import from_graph

        return from_graph(graph_def, **kwargs)

    @staticmethod
    def from_op(op_def: Any, **kwargs: Any) -> AssetsDefinition:
        """Assets computed by one op (the arguments of :meth:`from_graph`)."""
        from wharf._core.graph_assets import from_op

        return from_op(op_def, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from wharf._core.contexts import AssetExecutionContext, build_asset_context

        # Build a context unless the caller passed one (counting args would miscount
        # resource parameters).
        given = kwargs.get(self.context_param or "") or (args[0] if args else None)
        if self.context_param and not isinstance(given, AssetExecutionContext):
            args = (build_asset_context(asset_key=self.key), *args)
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"AssetsDefinition(key={self.key!r})"


def _hints(fn: Callable[..., Any], localns: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Resolved annotations (names looked up in the module, then in ``localns``: the scope the
    decorator ran in, for classes defined in a function); unresolvable ones stay strings."""
    local = dict(localns or {})
    try:
        return typing.get_type_hints(fn, localns=local, include_extras=True)
    except Exception:
        out: dict[str, Any] = {}
        for name, ann in getattr(fn, "__annotations__", {}).items():
            out[name] = ann
            if isinstance(ann, str):
                with contextlib.suppress(Exception):  # the user's own annotation
                    out[name] = eval(ann, fn.__globals__, local)
        return out


def _is_resource_annotation(ann: Any) -> bool:
    if typing.get_origin(ann) is Annotated and _RESOURCE_MARK in getattr(ann, "__metadata__", ()):
        return True
    config = sys.modules.get("wharf._core.config")
    if config is None or not isinstance(ann, type):
        return False
    return issubclass(ann, config.ConfigurableResource)


def _is_config_annotation(ann: Any) -> bool:
    module = sys.modules.get("wharf._core.config_class")  # not loaded: no Config class exists
    return module is not None and isinstance(ann, type) and issubclass(ann, module.Config)


def _checked_config_schema(schema: Any, label: str) -> Any:
    """``config_schema=`` in its normal form; an error names the asset."""
    if schema is None:
        return None
    from wharf._core.config_schema import check_schema

    try:
        return check_schema(schema, "the schema")
    except WharfError as exc:
        exc.asset = label
        exc.message = f"asset {label!r}: config_schema= {exc.message}"
        exc.args = (exc.message,)
        raise


def _is_context_annotation(ann: Any) -> bool:
    from wharf._core.contexts import AssetExecutionContext

    return isinstance(ann, type) and issubclass(ann, AssetExecutionContext)


def split_context_param(
    fn: Callable[..., Any], hints: Mapping[str, Any]
) -> tuple[str | None, list[inspect.Parameter]]:
    """(the context parameter, if the first one is: named ``context`` or annotated with a
    context class; the other parameters)."""
    params = list(inspect.signature(fn).parameters.values())
    if params and (
        params[0].name == "context" or _is_context_annotation(hints.get(params[0].name))
    ):
        return params[0].name, params[1:]
    return None, params


def build_asset(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    key: CoercibleToAssetKey | None = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    io_manager_key: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    group_name: str | None = None,
    description: str | None = None,
    code_version: str | None = None,
    required_resource_keys: set[str] | None = None,
    partitions_def: Any = None,
    tags: Mapping[str, str] | None = None,
    config_schema: Any = None,
    localns: Mapping[str, Any] | None = None,
) -> AssetsDefinition:
    """Build an :class:`AssetsDefinition` from a function's signature."""
    fn_name = getattr(fn, "__name__", "asset")
    if key is not None and (name is not None or key_prefix is not None):
        msg = f"asset {fn_name!r}: give either key= or name=/key_prefix=, not both"
        raise DefinitionError(msg, asset=fn_name, expected="key or name/key_prefix", got="both")
    prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])
    # name="" must be rejected as unsafe, not silently replaced by the function name.
    own_name = fn_name if name is None else name
    asset_key = to_asset_key(key) if key is not None else AssetKey([*prefix, own_name])
    label = asset_key.to_user_string()
    hints = _hints(fn, localns)
    ins = dict(ins or {})
    context_param, params = split_context_param(fn, hints)
    inputs: list[AssetInput] = []
    resource_params: dict[str, str] = {}
    config_param: str | None = None
    config_type: Any = None
    config_schema = _checked_config_schema(config_schema, label)

    def add_input(name: str, spec: AssetIn, ann: Any) -> None:
        in_key = spec.key
        if in_key is None:  # the asset's own key_prefix is not inherited (as in Dagster): the
            # graph resolves a one-part key to the asset of the same group with that name
            in_prefix = spec.key_prefix if spec.key_prefix is not None else []
            parts = [in_prefix] if isinstance(in_prefix, str) else list(in_prefix)
            in_key = AssetKey([*parts, check_safe_name(name, what="input name", asset=label)])
        load_type = spec.dagster_type if spec.dagster_type is not None else ann
        inputs.append(
            AssetInput(
                name,
                in_key,
                load_type,
                dict(spec.metadata or {}),
                spec.partition_mapping,
                spec.input_manager_key,
            )
        )

    var_keyword = None
    for p in params:
        if p.kind == p.VAR_KEYWORD:
            var_keyword = p
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = hints.get(p.name, p.annotation)
        if p.name not in ins and _is_resource_annotation(ann):
            resource_params[p.name] = p.name
            continue
        if p.name not in ins and _is_config_annotation(ann):
            if config_schema is not None:
                msg = (
                    f"asset {label!r} has both a Config parameter {p.name!r} and config_schema=: "
                    "expected one of them"
                )
                raise DefinitionError(msg, asset=label, expected="one config", got="both")
            config_param, config_type = p.name, ann
            continue
        add_input(p.name, ins.pop(p.name) if p.name in ins else AssetIn(), ann)
    if var_keyword is not None:  # ins= beyond the named parameters arrive as **kwargs
        for extra in list(ins):
            add_input(extra, ins.pop(extra), hints.get(var_keyword.name, Any))
    if ins:
        msg = (
            f"asset {label!r}: ins= names {', '.join(map(repr, ins))}, which "
            f"{'is not a parameter' if len(ins) == 1 else 'are not parameters'} of {fn_name}(): "
            f"expected one of {', '.join(p.name for p in params) or 'no parameters'}"
        )
        raise DefinitionError(msg, asset=label, expected="parameter names", got=", ".join(ins))
    return AssetsDefinition(
        fn=fn,
        key=asset_key,
        inputs=inputs,
        deps=[to_asset_key(d) for d in deps or ()],
        io_manager_key=io_manager_key or "io_manager",
        resource_params=resource_params,
        required_resource_keys=set(required_resource_keys or ()),
        context_param=context_param,
        return_annotation=hints.get("return", inspect.Signature.empty),
        metadata=metadata or {},
        group_name=group_name,
        description=description or inspect.getdoc(fn),
        code_version=code_version,
        tags=tags or {},
        partitions_def=partitions_def,
        config_param=config_param,
        config_type=config_type,
        config_schema=config_schema,
    )


@overload
def asset(fn: Callable[..., Any], /) -> AssetsDefinition: ...
@overload
def asset(
    *,
    name: str | None = None,
    key: CoercibleToAssetKey | None = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    io_manager_key: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    group_name: str | None = None,
    description: str | None = None,
    code_version: str | None = None,
    required_resource_keys: set[str] | None = None,
    partitions_def: Any = None,
    tags: Mapping[str, str] | None = None,
    config_schema: Any = None,
    **ignored: Any,
) -> Callable[[Callable[..., Any]], AssetsDefinition]: ...
def asset(
    fn: Callable[..., Any] | None = None, /, **kwargs: Any
) -> AssetsDefinition | Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare an asset: parameters name upstream assets, the return value is the data.

    Honoured: ``retry_policy``, ``tags``/``owners``/``kinds`` (in selections). Checked against
    Dagster's types and recorded (``wharf list`` shows them): ``compute_kind``,
    ``automation_condition``, ``freshness_policy``, ``backfill_policy``, ``op_tags``, ``pool``,
    ``check_specs``, ``output_required``. A wrong type or an unknown argument is an error
    naming the asset.

    A parameter names the upstream asset by its name alone (the asset's ``key_prefix`` is not
    inherited, as in Dagster); when no asset has that one-part key, the graph resolves it to the
    one asset of the same group whose key ends with that name.

    Examples:
        >>> @asset
        ... def numbers() -> list[int]:
        ...     return [1, 2, 3]
        >>> @asset(key_prefix="warehouse")
        ... def total(numbers: list[int]) -> int:
        ...     return sum(numbers)
        >>> total.key, [i.key for i in total.inputs]
        (AssetKey(['warehouse', 'total']), [AssetKey(['numbers'])])
    """
    known = {
        "name", "key", "key_prefix", "ins", "deps", "io_manager_key", "metadata", "group_name",
        "description", "code_version", "required_resource_keys", "partitions_def", "tags",
        "config_schema", "io_manager_def", "resource_defs",
    }  # fmt: skip
    from wharf._core.asset_args import RECORDED, check_tags, recorded_args

    used = {k: v for k, v in kwargs.items() if k in known - {"io_manager_def", "resource_defs"}}

    def wrap(f: Callable[..., Any], depth: int = 1) -> AssetsDefinition:
        name = str(kwargs.get("name") or getattr(f, "__name__", "asset"))
        unknown = sorted(set(kwargs) - known - set(RECORDED))
        if unknown:
            msg = (
                f"asset {name!r}: @asset got unknown argument{'s' * (len(unknown) > 1)} "
                f"{', '.join(unknown)}: expected {', '.join(sorted(known | set(RECORDED)))}"
            )
            raise DefinitionTypeError(msg, asset=name, expected="@asset arguments", got=unknown[0])
        if "tags" in used:
            used["tags"] = check_tags(name, used["tags"])
        recorded = recorded_args(name, kwargs)
        # the scope the decorator runs in resolves annotations of locally defined classes
        localns = sys._getframe(depth).f_locals
        built = build_asset(f, **used, localns=localns)
        for arg, value in recorded.items():
            setattr(built, arg, value)
        built.resource_defs = dict(kwargs.get("resource_defs") or {})
        inline = kwargs.get("io_manager_def")
        if inline is not None:  # bound under a key made from the asset key, as in Dagster
            if "io_manager_key" not in kwargs:
                built.io_manager_key = inline_io_manager_key(built.key)
            built.resource_defs[built.io_manager_key] = inline
        for spec in getattr(built, "check_specs", ()):
            if spec.asset_key != built.key:
                msg = (
                    f"asset {built.key.to_user_string()!r}: check_specs has a check of asset "
                    f"{spec.asset_key.to_user_string()!r}: expected checks of this asset"
                )
                raise DefinitionError(msg, asset=built.key.to_user_string())
        return built

    return wrap(fn, 2) if fn is not None else wrap
