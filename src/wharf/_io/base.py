"""The I/O manager contract, defined in :mod:`wharf._core.io_managers` (the execution engine
asks for it) and re-exported here for the stores built on it."""

from __future__ import annotations

from wharf._core.io_managers import (
    InputManager,
    InputManagerDefinition,
    IOManager,
    IOManagerDefinition,
    IOManagerFunction,
    input_manager,
    io_manager,
)

__all__ = [
    "IOManager",
    "IOManagerDefinition",
    "IOManagerFunction",
    "InputManager",
    "InputManagerDefinition",
    "input_manager",
    "io_manager",
]
