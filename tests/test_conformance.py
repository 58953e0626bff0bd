"""Every store row x every frame type x every check of the conformance suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from wharf.testing.conformance import CHECKS, FRAME_KINDS, Check, FrameKind, StoreCase
from wharf.testing.properties import PROPERTY_CHECKS
from wharf.testing.stores import LOCAL_STORES

CASES = [
    pytest.param(store, check, kind, id=f"{store.name}-{check.name}-{kind.name}")
    for store in LOCAL_STORES
    for check in (*CHECKS, *PROPERTY_CHECKS)
    if check.needs <= store.capabilities
    for kind in (FRAME_KINDS if check.per_kind else FRAME_KINDS[-2:-1])
]


@pytest.mark.parametrize(("store", "check", "kind"), CASES)
def test_conformance(store: StoreCase, check: Check, kind: FrameKind, tmp_path: Path) -> None:
    check.run(store, kind, tmp_path)
