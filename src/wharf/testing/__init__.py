"""Public test helpers: the store conformance suite that every I/O manager must pass.

A store joins the suite by adding one :class:`StoreCase` row; the checks in
:mod:`wharf.testing.conformance` run unchanged against every row and every frame type.
"""

from __future__ import annotations

from wharf.testing.conformance import (
    CHECKS,
    FRAME_KINDS,
    FrameKind,
    StoreCase,
)

__all__ = ["CHECKS", "FRAME_KINDS", "FrameKind", "StoreCase"]
