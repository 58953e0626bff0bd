"""Configurable I/O managers: typed config fields (pydantic) plus the I/O manager contract."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from wharf._core.config import ConfigurableResource, InitResourceContext
from wharf._core.io_managers import IOManager, StoreCapabilities


class ConfigurableIOManager(ConfigurableResource, IOManager):
    """An I/O manager whose configuration is typed fields.

    Examples:
        >>> class PrefixIOManager(ConfigurableIOManager):
        ...     prefix: str
        ...     def handle_output(self, context, obj): ...
        ...     def load_input(self, context): ...
        >>> PrefixIOManager(prefix="p")
        PrefixIOManager(prefix='p')
    """


class ConfigurableIOManagerFactory(ConfigurableResource, StoreCapabilities):
    """Typed configuration that builds a separate :class:`IOManager` object for each run.

    Examples:
        >>> class Factory(ConfigurableIOManagerFactory):
        ...     root: str
        ...     def create_io_manager(self, context):
        ...         return SomeIOManager(self.root)
    """

    @abstractmethod
    def create_io_manager(self, context: InitResourceContext) -> IOManager:
        """Build the I/O manager for this run."""

    def get_io_manager(self, context: InitResourceContext) -> Any:
        return self.create_io_manager(context)
