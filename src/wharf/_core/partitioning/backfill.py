"""Backfill policies: how many partitions of an asset one backfill run materializes.

Without a policy a backfill is one run per partition. ``BackfillPolicy.single_run()`` puts every
partition of the backfill in one run (the asset sees the whole range through
``context.partition_key_range`` and stores it in one write); ``BackfillPolicy.multi_run(n)``
splits the backfill into runs of at most ``n`` consecutive partitions. When the selected
assets have different policies, the smallest run size wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from wharf.errors import DefinitionError


class BackfillPolicyType(Enum):
    SINGLE_RUN = "SINGLE_RUN"
    MULTI_RUN = "MULTI_RUN"


class BackfillPolicy:
    """How a backfill of an asset is split into runs (``@asset(backfill_policy=...)``).

    Examples:
        >>> BackfillPolicy.single_run().max_partitions_per_run is None
        True
        >>> BackfillPolicy.multi_run(10).policy_type
        <BackfillPolicyType.MULTI_RUN: 'MULTI_RUN'>
    """

    def __init__(self, max_partitions_per_run: int | None = 1) -> None:
        if max_partitions_per_run is not None and (
            isinstance(max_partitions_per_run, bool)
            or not isinstance(max_partitions_per_run, int)
            or max_partitions_per_run < 1
        ):
            msg = (
                f"BackfillPolicy: max_partitions_per_run={max_partitions_per_run!r} is not "
                "valid: expected a whole number of at least 1 (or None for one run)"
            )
            raise DefinitionError(msg, expected="an int >= 1", got=repr(max_partitions_per_run))
        self.max_partitions_per_run = max_partitions_per_run

    @staticmethod
    def single_run() -> BackfillPolicy:
        """Every partition of a backfill in one run."""
        return BackfillPolicy(None)

    @staticmethod
    def multi_run(max_partitions_per_run: int = 1) -> BackfillPolicy:
        """Runs of at most ``max_partitions_per_run`` partitions each."""
        return BackfillPolicy(max_partitions_per_run)

    @property
    def policy_type(self) -> BackfillPolicyType:
        if self.max_partitions_per_run is None:
            return BackfillPolicyType.SINGLE_RUN
        return BackfillPolicyType.MULTI_RUN

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, BackfillPolicy)
            and other.max_partitions_per_run == self.max_partitions_per_run
        )

    def __hash__(self) -> int:
        return hash(("BackfillPolicy", self.max_partitions_per_run))

    def __repr__(self) -> str:
        if self.max_partitions_per_run is None:
            return "BackfillPolicy.single_run()"
        return f"BackfillPolicy.multi_run(max_partitions_per_run={self.max_partitions_per_run})"


def check_backfill_policy(asset: str, value: Any) -> BackfillPolicy:
    """``value`` as given to ``@asset(backfill_policy=...)``: a :class:`BackfillPolicy`."""
    if not isinstance(value, BackfillPolicy):
        msg = (
            f"asset {asset!r}: backfill_policy={value!r} is not valid: expected "
            "BackfillPolicy.single_run() or BackfillPolicy.multi_run(n)"
        )
        raise DefinitionError(msg, asset=asset, expected="a BackfillPolicy", got=repr(value))
    return value


def run_size(policies: Sequence[BackfillPolicy | None]) -> int | None:
    """Partitions per run for assets with these policies (None: all in one run): one per run
    if any asset has no policy, else the smallest ``max_partitions_per_run``.

    Examples:
        >>> run_size([BackfillPolicy.single_run(), BackfillPolicy.multi_run(5)])
        5
        >>> run_size([BackfillPolicy.single_run()]) is None
        True
        >>> run_size([None, BackfillPolicy.single_run()])
        1
    """
    sizes = [1 if p is None else p.max_partitions_per_run for p in policies]
    bounded = [s for s in sizes if s is not None]
    return min(bounded) if bounded else None


def chunk_keys(keys: Sequence[str], size: int | None) -> list[list[str]]:
    """``keys`` in runs of ``size`` (None: one run of all).

    Examples:
        >>> chunk_keys(["a", "b", "c"], 2)
        [['a', 'b'], ['c']]
    """
    if size is None:
        return [list(keys)] if keys else []
    return [list(keys[i : i + size]) for i in range(0, len(keys), size)]
