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

__all__ = ["fs_io_manager", "io_manager_from", "mem_io_manager", "resource_from"]

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


def io_manager_from(
    factory: Callable[[], type],
    *,
    name: str,
    resources: Mapping[str, str] | None = None,
    description: str | None = None,
    adapt: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> IOManagerDefinition:
    """A function-style I/O manager that builds the configurable class ``factory()`` returns.

    Args:
        factory: returns the class (imported when a run sets the manager up).
        name: the function name Dagster gives it (``s3_pickle_io_manager``).
        resources: the class's field -> the resource key it is read from (``{"s3_resource":
            "s3"}``); these keys are the definition's ``required_resource_keys``.
        adapt: turns the legacy config into the class's fields, where their names differ.
    """
    needed = dict(resources or {})

    def build(context: Any) -> Iterator[Any]:
        cls = factory()
        fields = dict(context.resource_config or {})
        if adapt is not None:
            fields = adapt(fields)
        for field, key in needed.items():
            fields[field] = _resource_value(context, key, field, name)
        configured = cls(**fields)
        create = getattr(configured, "create_io_manager", None)
        if create is not None:
            yield create(context)
            return
        with configured.yield_for_execution(context) as manager:
            yield manager

    build.__name__ = name
    return IOManagerDefinition(build, description=description,
                               required_resource_keys=set(needed.values()))  # fmt: skip


def resource_from(
    factory: Callable[[], type],
    *,
    name: str,
    value: Callable[[Any], Any] | None = None,
    adapt: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    description: str | None = None,
) -> ResourceDefinition:
    """A function-style resource that builds the configurable resource ``factory()`` returns
    from its config; ``value`` turns it into what Dagster's function gives (a client).

    The configurable object rides on the value, so the function-style I/O managers that
    require this resource (:func:`io_manager_from`) use its settings.
    """

    def build(context: Any) -> Iterator[Any]:
        fields = dict(context.resource_config or {})
        configured = factory()(**(adapt(fields) if adapt is not None else fields))
        with configured.yield_for_execution(context) as ready:
            given = value(ready) if value is not None else ready
            if given is not ready:
                with contextlib.suppress(AttributeError, TypeError):  # no __dict__
                    setattr(given, _SOURCE, ready)
            yield given

    build.__name__ = name
    return ResourceDefinition(build, description=description)


def _filesystem() -> type:
    from wharf._io.filesystem import FilesystemIOManager

    return FilesystemIOManager


def _memory(_context: Any) -> Any:
    from wharf._io.memory import InMemoryIOManager

    return InMemoryIOManager()


#: Dagster's ``fs_io_manager``: values pickled (tables as Parquet) under ``base_dir``, by
#: default the instance's storage folder
fs_io_manager = io_manager_from(
    _filesystem, name="fs_io_manager",
    description="Files under base_dir (default: the instance's storage directory).",
)  # fmt: skip

#: Dagster's ``mem_io_manager``: values kept in memory for one run
mem_io_manager = IOManagerDefinition(_memory, description="Values in memory, for one run.")
