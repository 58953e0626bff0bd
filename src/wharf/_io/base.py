"""The I/O manager contract: ``handle_output`` stores a value, ``load_input`` loads it.

This module is light (no pydantic); the configurable variants live in ``configurable.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from wharf._core.config import InitResourceContext
    from wharf._core.contexts import InputContext, OutputContext


class IOManager(ABC):
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


IOManagerFunction = Callable[..., IOManager]


class IOManagerDefinition:
    """An I/O manager built by a function when a run starts (see :func:`io_manager`)."""

    def __init__(
        self,
        fn: IOManagerFunction,
        *,
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: set[str] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.config_schema = config_schema
        self.description = description or fn.__doc__
        self.required_resource_keys = set(required_resource_keys or ())
        self.config = dict(config or {})

    def configured(self, config: Mapping[str, Any]) -> IOManagerDefinition:
        """A copy of this definition with ``config`` as its ``resource_config``."""
        return IOManagerDefinition(
            self.fn,
            config_schema=self.config_schema,
            description=self.description,
            required_resource_keys=self.required_resource_keys,
            config=config,
        )

    def build(self, context: InitResourceContext) -> IOManager:
        """Call the factory function (with the init context when it takes one)."""
        import inspect

        if inspect.signature(self.fn).parameters:
            return self.fn(context)
        return self.fn()

    def __repr__(self) -> str:
        return f"IOManagerDefinition({getattr(self.fn, '__name__', self.fn)!r})"


@overload
def io_manager(fn: IOManagerFunction) -> IOManagerDefinition: ...
@overload
def io_manager(
    fn: None = None,
    *,
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: set[str] | None = None,
) -> Callable[[IOManagerFunction], IOManagerDefinition]: ...
def io_manager(
    fn: IOManagerFunction | None = None,
    *,
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: set[str] | None = None,
) -> IOManagerDefinition | Callable[[IOManagerFunction], IOManagerDefinition]:
    """Turn a function returning an :class:`IOManager` into an I/O manager definition.

    Examples:
        >>> @io_manager
        ... def my_io_manager(init_context):
        ...     return MyIOManager()
    """

    def wrap(f: IOManagerFunction) -> IOManagerDefinition:
        return IOManagerDefinition(
            f,
            config_schema=config_schema,
            description=description,
            required_resource_keys=required_resource_keys,
        )

    return wrap(fn) if fn is not None else wrap
