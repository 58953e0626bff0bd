"""Moved to :mod:`wharf._stores.spool`; this name is the same module (code and tests that set
its ``_SWEPT`` reach the one the blob stores use)."""

from __future__ import annotations

import sys

from wharf._stores import spool

sys.modules[__name__] = spool
