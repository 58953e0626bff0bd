"""Dagster's function-style I/O managers and resources (``fs_io_manager``, ``s3_resource``, ...)
as definitions built from wharf's configurable classes.

Older Dagster code configures them with ``.configured({...})`` or the run config's
``resources: {key: {config: {...}}}``, and names the resources they need by key
(``s3_pickle_io_manager`` requires ``s3``). Each one here is an :class:`IOManagerDefinition`
(or :class:`ResourceDefinition`) whose function builds the configurable class from that config
and those resources, so the same store code runs, with its checks and errors. A store module
makes its own with :func:`io_manager_from` / :func:`resource_from`; nothing is imported until a
run sets one up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from wharf._core.resource_defs import ResourceDefinition
from wharf._io.base import IOManagerDefinition
from wharf.errors import MissingResourceError

__all__ = [
    "build_io_manager",
    "fs_io_manager",
    "io_manager_from",
    "mem_io_manager",
    "resource_from",
]

#: where a resource built by :func:`resource_from` keeps the configurable object it came from,
#: when the value it gives is something else (``s3_resource`` gives a boto3 client)
_SOURCE = "_wharf_resource"


def _resource_value(context: Any, key: str, field: str, owner: str) -> Any:
    """The configurable resource under ``key`` of the run, for ``owner``'s field ``field``."""
    resources = context.resources
    if resources is None or key not in resources:
        known = ", ".join(sorted(getattr(resources, "original_dict", {}) or {})) or "none"
        msg = (
            f"I/O manager {owner} requires the resource {key!r} (for its {field!r}), but the "
            f"run has no resource with that key: expected one of [{known}]"
        )
        raise MissingResourceError(msg, io_manager=owner, expected=key, got=known)
    value = getattr(resources, key)
    return getattr(value, _SOURCE, value)


def _class(path: str) -> Any:
    """The class at ``module:Name`` (imported when a run sets the definition up)."""
    import importlib

    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class _BuildIOManager:
    """The function of an :func:`io_manager_from` definition (a plain object, so executors
    can send the definition to worker processes)."""

    def __init__(self, cls: str, name: str, resources: Mapping[str, str], adapt: Any) -> None:
        self.cls, self.__name__, self.resources, self.adapt = cls, name, dict(resources), adapt

    def __call__(self, context: Any) -> Iterator[Any]:
        fields = dict(context.resource_config or {})
        if self.adapt is not None:
            fields = self.adapt(fields)
        for field, key in self.resources.items():
            fields[field] = _resource_value(context, key, field, self.__name__)
        configured = self.make(fields)
        create = getattr(configured, "create_io_manager", None)
        if create is not None:
            yield create(context)
            return
        with configured.yield_for_execution(context) as manager:
            yield manager

    def make(self, fields: dict[str, Any]) -> Any:
        """The configurable object, from the definition's config."""
        return _class(self.cls)(**fields)


class _BuildWithHandlers(_BuildIOManager):
    """The function of a :func:`build_io_manager` definition: ``cls`` with these type handlers
    and default load type (picklable: the subclass is made in the process that runs it)."""

    def __init__(self, cls: str, name: str, handlers: list[Any], default: Any) -> None:
        super().__init__(cls, name, {}, None)
        self.handlers, self.default = handlers, default

    def make(self, fields: dict[str, Any]) -> Any:
        base = _class(self.cls)
        handlers, default = list(self.handlers), self.default
        namespace = {
            "type_handlers": staticmethod(lambda: handlers),
            "default_load_type": staticmethod(lambda: default),
            "__module__": base.__module__,
        }
        return type(base.__name__, (base,), namespace)(**fields)


def build_io_manager(
    cls: str, type_handlers: Any, default_load_type: Any, *, name: str
) -> IOManagerDefinition:
    """Dagster's ``build_<store>_io_manager(type_handlers, default_load_type=None)``: a
    function-style I/O manager (configured with the store's fields) that stores the types of
    ``type_handlers`` (see :mod:`wharf._io.type_handlers`)."""
    handlers = list(type_handlers)
    return IOManagerDefinition(_BuildWithHandlers(cls, name, handlers, default_load_type))


class _BuildResource:
    """The function of a :func:`resource_from` definition (picklable, as above)."""

    def __init__(self, cls: str, name: str, value: str | None, adapt: Any) -> None:
        self.cls, self.__name__, self.value, self.adapt = cls, name, value, adapt

    def __call__(self, context: Any) -> Iterator[Any]:
        fields = dict(context.resource_config or {})
        configured = _class(self.cls)(**(self.adapt(fields) if self.adapt else fields))
        with configured.yield_for_execution(context) as ready:
            given = getattr(ready, self.value)() if self.value is not None else ready
            if given is not ready:
                with contextlib.suppress(AttributeError, TypeError):  # no __dict__
                    setattr(given, _SOURCE, ready)
            yield given


def io_manager_from(
    cls: str,
    *,
    name: str,
    resources: Mapping[str, str] | None = None,
    description: str | None = None,
    adapt: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> IOManagerDefinition:
    """A function-style I/O manager that builds the configurable class ``cls``.

    Args:
        cls: the class as ``module:Name`` (imported when a run sets the manager up).
        name: the function name Dagster gives it (``s3_pickle_io_manager``).
        resources: the class's field -> the resource key it is read from (``{"s3_resource":
            "s3"}``); these keys are the definition's ``required_resource_keys``.
        adapt: a module-level function that turns the legacy config into the class's fields,
            where their names differ.
    """
    needed = dict(resources or {})
    return IOManagerDefinition(_BuildIOManager(cls, name, needed, adapt), description=description,
                               required_resource_keys=set(needed.values()))  # fmt: skip


def resource_from(
    cls: str,
    *,
    name: str,
    value: str | None = None,
    adapt: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    description: str | None = None,
) -> ResourceDefinition:
    """A function-style resource that builds the configurable resource ``cls`` (``module:Name``)
    from its config; ``value`` names the method that gives what Dagster's function gives (a
    client).

    The configurable object rides on the value, so the function-style I/O managers that
    require this resource (:func:`io_manager_from`) use its settings.
    """
    return ResourceDefinition(_BuildResource(cls, name, value, adapt), description=description)


def _memory(_context: Any) -> Any:
    from wharf._io.memory import InMemoryIOManager

    return InMemoryIOManager()


#: Dagster's ``fs_io_manager``: values pickled (tables as Parquet) under ``base_dir``, by
#: default the instance's storage folder
fs_io_manager = io_manager_from(
    "wharf._io.filesystem:FilesystemIOManager", name="fs_io_manager",
    description="Files under base_dir (default: the instance's storage directory).",
)  # fmt: skip

#: Dagster's ``mem_io_manager``: values kept in memory for one run
mem_io_manager = IOManagerDefinition(_memory, description="Values in memory, for one run.")
