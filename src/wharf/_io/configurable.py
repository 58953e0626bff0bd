"""The configurable I/O managers, defined in :mod:`wharf._core.config_io`, re-exported for the
stores built on them."""

from __future__ import annotations

from wharf._core.config_io import ConfigurableIOManager, ConfigurableIOManagerFactory

__all__ = ["ConfigurableIOManager", "ConfigurableIOManagerFactory"]
