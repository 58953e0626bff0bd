"""Function-style resources from older Dagster code: ``@resource`` and ``ResourceDefinition``.

A definition wraps a function of the init context (``init_context.resource_config``,
``init_context.resources``) that returns the resource, or yields it (the code after the
``yield`` runs when the run ends). ``config_schema`` checks the config (and fills defaults)
when a run sets the resource up; ``.configured({...})`` fixes it ahead of time. The same
resource can be given to a run as the definition or as the value itself.

This module is light (no pydantic): the init context is built only when a run sets up.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any, overload

__all__ = ["ResourceDefinition", "resource"]

ResourceFunction = Callable[..., Any]


class ResourceDefinition:
    """A resource built by a function when a run starts.

    Examples:
        >>> @resource(config_schema={"greeting": str})
        ... def greeter(init_context):
        ...     return init_context.resource_config["greeting"] + "!"
        >>> from wharf import build_init_resource_context
        >>> greeter(build_init_resource_context(config={"greeting": "hi"}))
        'hi!'
        >>> greeter.configured({"greeting": "hey"})(build_init_resource_context())
        'hey!'
    """

    def __init__(
        self,
        resource_fn: ResourceFunction,
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: set[str] | None = None,
        version: str | None = None,
        *,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        if config_schema is not None:
            from wharf._core.config_schema import check_schema

            config_schema = check_schema(config_schema, "config_schema")
        self.resource_fn = resource_fn
        self.config_schema = config_schema
        self.description = description or getattr(resource_fn, "__doc__", None)
        self.required_resource_keys = set(required_resource_keys or ())
        self.version = version
        #: the config given by ``.configured`` (None: the run gives it, or the defaults)
        self.config: dict[str, Any] = dict(config or {})
        self._configured = config is not None

    @property
    def fn(self) -> ResourceFunction:
        return self.resource_fn

    def configured(
        self, config_or_config_fn: Any, name: str | None = None, **_: Any
    ) -> ResourceDefinition:
        """A copy whose config is ``config_or_config_fn`` (a dict, or a function of the config
        the run gives that returns the config to use)."""
        import copy

        out = copy.copy(self)
        if callable(config_or_config_fn):
            fn, base = config_or_config_fn, self.resource_fn

            def mapped(ctx: Any) -> Any:
                ctx.resource_config = dict(fn(dict(ctx.resource_config or {})) or {})
                ctx.resource_config = out.checked_config(ctx.resource_config, ctx.resource_key)
                return _call(base, ctx)

            out.resource_fn = mapped
            out._configured = False
            return out
        if not isinstance(config_or_config_fn, Mapping):
            from wharf.errors import ConfigError

            got = type(config_or_config_fn).__name__
            msg = f"{self!r}.configured(...): expected a dict of config, got {got}"
            raise ConfigError(msg, expected="a dict", got=got)
        out.config = self.checked_config(dict(config_or_config_fn), name)
        out._configured = True
        return out

    def checked_config(self, config: Mapping[str, Any] | None, key: str | None = None) -> Any:
        """``config`` checked against ``config_schema``, defaults filled in."""
        if self.config_schema is None:
            return dict(config or {}) if not isinstance(config, str | int | float) else config
        from wharf._core.config_schema import validate

        value = dict(config) if isinstance(config, Mapping) else config
        return validate(self.config_schema, value, f"resources.{key or '?'}.config")

    def run_config(self, given: Mapping[str, Any] | None = None, key: str | None = None) -> Any:
        """The config a run uses: the run config's if given, else ``.configured``'s, checked
        (errors name ``resources.<key>.config``)."""
        return self.checked_config(self.config if given is None else given, key)

    @contextlib.contextmanager
    def open(self, context: Any) -> Iterator[Any]:
        """Build the resource for a run (a generator function: until the run ends)."""
        result = _call(self.resource_fn, context)
        if inspect.isgenerator(result):
            with contextlib.contextmanager(lambda: result)() as value:
                yield value
            return
        yield result

    def __call__(self, context: Any = None) -> Any:
        """Build the resource directly, as a test does:
        ``my_resource(build_init_resource_context(config={...}))``."""
        from wharf._core.contexts import build_init_resource_context

        if context is None:
            context = build_init_resource_context()
        given = context.resource_config if context.resource_config else None
        context.resource_config = self.run_config(given)
        result = _call(self.resource_fn, context)
        if inspect.isgenerator(result):
            result.close()
            msg = f"{self!r} yields its value: build it in a run, or with it as a context manager"
            from wharf.errors import InvalidInvocationError

            raise InvalidInvocationError(msg, expected="a function that returns", got="generator")
        return result

    @staticmethod
    def hardcoded_resource(value: Any, description: str | None = None) -> ResourceDefinition:
        """A definition that always gives ``value``."""
        return ResourceDefinition(lambda _ctx: value, description=description)

    @staticmethod
    def none_resource(description: str | None = None) -> ResourceDefinition:
        """A definition that gives ``None``."""
        return ResourceDefinition.hardcoded_resource(None, description)

    @staticmethod
    def string_resource(description: str | None = None) -> ResourceDefinition:
        """A definition whose config is a string, which it gives."""
        return ResourceDefinition(lambda ctx: ctx.resource_config, config_schema=str,
                                  description=description)  # fmt: skip

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self.resource_fn, '__name__', self.resource_fn)!r})"


def _call(fn: ResourceFunction, context: Any) -> Any:
    """Call a resource function with the init context, if it takes one."""
    return fn(context) if inspect.signature(fn).parameters else fn()


@overload
def resource(config_schema: ResourceFunction, /) -> ResourceDefinition: ...
@overload
def resource(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: set[str] | None = None,
    version: str | None = None,
) -> Callable[[ResourceFunction], ResourceDefinition]: ...
def resource(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: set[str] | None = None,
    version: str | None = None,
) -> ResourceDefinition | Callable[[ResourceFunction], ResourceDefinition]:
    """Turn a function of the init context into a :class:`ResourceDefinition`.

    Examples:
        >>> @resource
        ... def answer():
        ...     return 42
        >>> answer()
        42
    """
    if callable(config_schema) and not isinstance(config_schema, type):
        return ResourceDefinition(config_schema)

    def wrap(fn: ResourceFunction) -> ResourceDefinition:
        return ResourceDefinition(fn, config_schema, description, required_resource_keys, version)

    return wrap
