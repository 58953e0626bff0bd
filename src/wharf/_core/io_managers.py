"""The I/O manager contract: ``handle_output`` stores a value, ``load_input`` loads it.

Function-style definitions from older Dagster code live here too: ``@io_manager`` (an
:class:`IOManagerDefinition`, a :class:`~wharf._core.resource_defs.ResourceDefinition` whose
function returns an I/O manager) and ``@input_manager`` (an :class:`InputManagerDefinition`
whose function loads an input). It lives in ``_core`` because the execution
engine asks I/O managers what they can do (:class:`StoreCapabilities`, each with a default);
the stores in :mod:`wharf._io` build on it (``wharf._io.base`` re-exports it), and ``_core``
imports nothing of ``_io``. This module is light (no pydantic); the configurable variants live
in :mod:`wharf._core.config_io`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, overload

from wharf._core.resource_defs import ResourceDefinition, _call

if TYPE_CHECKING:
    from wharf._core.config import InitResourceContext
    from wharf._core.contexts import InputContext, OutputContext
    from wharf._core.keys import AssetKey


class StoreCapabilities:
    """What the executors ask of an I/O manager (or of the resource that builds one, such as
    a :class:`~wharf.ConfigurableIOManagerFactory`) before a run; the defaults suit a store
    that every process and machine reaches."""

    def is_process_local(self) -> bool:
        """Whether values live inside this process only: executors that run assets in
        worker processes refuse such a manager before the run."""
        return False

    def process_local_reason(self) -> str | None:
        """Why values stay in one process and what to use instead (for the refusal), if the
        manager has its own words for it."""
        return None

    def is_machine_local(self) -> bool:
        """Whether values live on this machine (local files): a cluster of other machines
        cannot use the manager."""
        return False

    def check_outputs(
        self,
        outputs: list[tuple[AssetKey, Mapping[str, Any]]],
        partitions: Mapping[AssetKey, Any] | None = None,
    ) -> None:
        """Refuse, before a run, outputs this manager cannot keep apart (``outputs``: each
        asset key with its definition metadata; ``partitions``: each key's partitions
        definition); by default every set is fine."""
        return


class InputManager(ABC):
    """Loads an input: ``AssetIn(input_manager_key=)`` / ``In(input_manager_key=)`` name one
    to load an input through it instead of the upstream's I/O manager.

    Examples:
        >>> class Constant(InputManager):
        ...     def load_input(self, context):
        ...         return 7
    """

    @abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Load the input ``context.name`` (``context.upstream_output``: what stored it)."""


class IOManager(InputManager, StoreCapabilities):
    """Stores an asset's value and loads it for downstream assets.

    Examples:
        >>> class DictIOManager(IOManager):
        ...     def __init__(self):
        ...         self.values = {}
        ...     def handle_output(self, context, obj):
        ...         self.values[context.asset_key] = obj
        ...     def load_input(self, context):
        ...         return self.values[context.asset_key]
    """

    @abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store ``obj``, the value the asset returned."""

    @abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Load the value of ``context.asset_key`` (the upstream asset)."""


IOManagerFunction = Callable[..., Any]


class IOManagerDefinition(ResourceDefinition):
    """An I/O manager built by a function when a run starts (see :func:`io_manager`).

    ``input_config_schema`` / ``output_config_schema`` describe the config of each input and
    output it handles (``context.config``), as in Dagster.
    """

    def __init__(  # noqa: PLR0917 (Dagster's positional order)
        self,
        resource_fn: IOManagerFunction,
        config_schema: Any = None,
        description: str | None = None,
        output_config_schema: Any = None,
        required_resource_keys: set[str] | None = None,
        version: str | None = None,
        input_config_schema: Any = None,
        *,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(resource_fn, config_schema, description, required_resource_keys,
                         version, config=config)  # fmt: skip
        self.input_config_schema = input_config_schema
        self.output_config_schema = output_config_schema

    def build(self, context: InitResourceContext) -> Any:
        """Call the factory function (with the init context when it takes one)."""
        return _call(self.resource_fn, context)

    @staticmethod
    def hardcoded_io_manager(value: Any, description: str | None = None) -> IOManagerDefinition:
        """A definition that always gives the I/O manager ``value``.

        Examples:
            >>> class Noop(IOManager):
            ...     def handle_output(self, context, obj): ...
            ...     def load_input(self, context): ...
            >>> noop = Noop()
            >>> IOManagerDefinition.hardcoded_io_manager(noop)() is noop
            True
        """
        return IOManagerDefinition(lambda _ctx: value, description=description)


class InputManagerDefinition(IOManagerDefinition):
    """An input manager built when a run starts (see :func:`input_manager`)."""


class _LoadFunction(InputManager):
    """The input manager of ``@input_manager``: its function loads each input."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.manager_name = getattr(fn, "__name__", "input_manager")

    def load_input(self, context: InputContext) -> Any:
        loaded = _call(self.fn, context)
        if isinstance(loaded, InputManager):  # a factory of an InputManager, as Dagster allows
            return loaded.load_input(context)
        return loaded


@overload
def io_manager(config_schema: IOManagerFunction, /) -> IOManagerDefinition: ...
@overload
def io_manager(
    config_schema: Any = None,
    description: str | None = None,
    output_config_schema: Any = None,
    input_config_schema: Any = None,
    required_resource_keys: set[str] | None = None,
    version: str | None = None,
) -> Callable[[IOManagerFunction], IOManagerDefinition]: ...
def io_manager(  # noqa: PLR0917 (Dagster's positional order)
    config_schema: Any = None,
    description: str | None = None,
    output_config_schema: Any = None,
    input_config_schema: Any = None,
    required_resource_keys: set[str] | None = None,
    version: str | None = None,
) -> IOManagerDefinition | Callable[[IOManagerFunction], IOManagerDefinition]:
    """Turn a function returning an :class:`IOManager` into an I/O manager definition.

    Examples:
        >>> @io_manager(config_schema={"base": str})
        ... def my_io_manager(init_context):
        ...     return MyIOManager(init_context.resource_config["base"])
    """
    if callable(config_schema) and not isinstance(config_schema, type):
        return IOManagerDefinition(config_schema)

    def wrap(f: IOManagerFunction) -> IOManagerDefinition:
        return IOManagerDefinition(
            f, config_schema=config_schema, description=description,
            output_config_schema=output_config_schema, input_config_schema=input_config_schema,
            required_resource_keys=required_resource_keys, version=version,
        )  # fmt: skip

    return wrap


@overload
def input_manager(config_schema: Callable[..., Any], /) -> InputManagerDefinition: ...
@overload
def input_manager(
    config_schema: Any = None,
    description: str | None = None,
    input_config_schema: Any = None,
    required_resource_keys: set[str] | None = None,
    version: str | None = None,
) -> Callable[[Callable[..., Any]], InputManagerDefinition]: ...
def input_manager(
    config_schema: Any = None,
    description: str | None = None,
    input_config_schema: Any = None,
    required_resource_keys: set[str] | None = None,
    version: str | None = None,
) -> InputManagerDefinition | Callable[[Callable[..., Any]], InputManagerDefinition]:
    """Turn a function that loads an input (``def load(context) -> value``) into an input
    manager definition.

    Examples:
        >>> @input_manager
        ... def table_1_manager():
        ...     return [1, 2, 3]
        >>> table_1_manager().load_input(None)
        [1, 2, 3]
    """

    bare = callable(config_schema) and not isinstance(config_schema, type)

    def wrap(f: Callable[..., Any]) -> InputManagerDefinition:
        return InputManagerDefinition(
            lambda _ctx: _LoadFunction(f), config_schema=None if bare else config_schema,
            description=description or f.__doc__, input_config_schema=input_config_schema,
            required_resource_keys=required_resource_keys, version=version,
        )  # fmt: skip

    return wrap(config_schema) if bare else wrap


#: The I/O managers the engine builds itself, by role: ``"default"`` for a run that names none
#: (Dagster's filesystem manager), ``"memory"`` for :func:`~wharf.materialize_to_memory`. The
#: stores register them (:mod:`wharf` does on import), so the engine never imports a store.
BUILT_IN: dict[str, Callable[[], Any]] = {}


def built_in(role: str) -> Any:
    """A new I/O manager (or a factory that builds one for the run) of ``role`` (see
    :data:`BUILT_IN`).

    Examples:
        >>> import wharf
        >>> type(built_in("memory")).__name__
        'InMemoryIOManager'
    """
    return BUILT_IN[role]()
