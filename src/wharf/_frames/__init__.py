"""Frame adapters: every supported dataframe type to and from Arrow.

Importing this package imports no dataframe library; see :mod:`wharf._frames.registry`.
"""

from __future__ import annotations

from wharf._frames.base import FrameAdapter
from wharf._frames.registry import (
    adapter_for_annotation,
    adapter_for_load,
    adapter_for_value,
    adapter_named,
    is_table_like,
    supported_type_names,
)

__all__ = [
    "FrameAdapter",
    "adapter_for_annotation",
    "adapter_for_load",
    "adapter_for_value",
    "adapter_named",
    "is_table_like",
    "supported_type_names",
]
