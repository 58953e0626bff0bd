"""Earlier versions of a stored value, for stores that keep history (Delta Lake, Iceberg, the
file and object-store managers given ``keep_versions=N``).

An I/O manager that keeps history lists them with ``stored_versions(key, metadata)`` (newest
first, as :class:`StoredVersion`) and loads one when its input context's ``stored_version`` is
set. ``Definitions.load_asset_value(key, version=...)`` picks the version (:func:`pick_version`):

- a non-negative ``int``: the store's version number, as ``wharf show KEY --versions`` lists it;
- a negative ``int``: the N-th previous version (``-1``: the one before the current one);
- a ``str``: a run id (or a unique prefix of one): the newest version that run wrote;
- a ``datetime``: the version that was current then (a naive one is taken as UTC).

A manager that keeps no history (SQL tables, files without ``keep_versions``) refuses with
:class:`~wharf.errors.StoredValueNotFoundError` naming the asset and the I/O manager.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from wharf.errors import DefinitionError, StoredValueNotFoundError

__all__ = ["StoredVersion", "VersionSpec", "keeps_no_versions", "pick_version"]

VersionSpec = int | str | dt.datetime
"""What ``load_asset_value(version=)`` takes: a version number, ``-N`` (the N-th previous), a
run id or a point in time."""


@dataclass(frozen=True)
class StoredVersion:
    """One version of an asset's stored value that its store keeps.

    Attributes:
        version: the store's number for it (a Delta version, an Iceberg snapshot's sequence).
        timestamp: when it was committed (UTC).
        operation: what made it (``WRITE``, ``append``, ``MERGE``, ...), as the store says.
        run_id: the wharf run that wrote it (None: written by something else).

    Examples:
        >>> import datetime as dt
        >>> v = StoredVersion(3, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "WRITE", "abc")
        >>> v.version, v.run_id
        (3, 'abc')
    """

    version: int
    timestamp: dt.datetime
    operation: str
    run_id: str | None = None


def keeps_no_versions(asset: str, io_manager: str) -> StoredValueNotFoundError:
    """The error of an earlier version asked of an I/O manager that keeps none."""
    msg = (
        f"asset {asset!r}: {io_manager} keeps no earlier versions (each write replaces the "
        "stored value): expected an I/O manager that keeps history (DeltaLakeIOManager, "
        "IcebergIOManager, or a file or object-store manager with keep_versions=N)"
    )
    return StoredValueNotFoundError(
        msg, asset=asset, io_manager=io_manager, expected="a store that keeps versions",
        got=f"{io_manager}, which keeps only the current value",
    )  # fmt: skip


def pick_version(
    versions: Sequence[StoredVersion], wanted: VersionSpec, *, asset: str, io_manager: str
) -> StoredVersion:
    """The version ``wanted`` names among ``versions`` (newest first); see the module.

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        >>> vs = [StoredVersion(2, t.replace(day=3), "WRITE", "run-c"),
        ...       StoredVersion(1, t.replace(day=2), "WRITE", "run-b"),
        ...       StoredVersion(0, t, "WRITE", "run-a")]
        >>> [pick_version(vs, w, asset="a", io_manager="M").version
        ...  for w in (1, -1, -2, "run-a", t.replace(day=2, hour=5))]
        [1, 1, 0, 0, 1]
    """

    def missing(what: str, known: str) -> StoredValueNotFoundError:
        msg = (
            f"asset {asset!r}: {io_manager} keeps no version {what}: expected one of {known}"
            if versions
            else f"asset {asset!r}: {io_manager} keeps no version {what}: nothing is stored"
        )
        return StoredValueNotFoundError(
            msg, asset=asset, io_manager=io_manager, expected=known, got=what
        )

    if isinstance(wanted, bool) or not isinstance(wanted, int | str | dt.datetime):
        msg = (
            f"load_asset_value({asset!r}, version={wanted!r}): expected a version number, -N "
            f"(the N-th previous), a run id or a datetime, got {type(wanted).__name__}"
        )
        raise DefinitionError(
            msg, asset=asset, expected="int, str or datetime", got=type(wanted).__name__
        )
    numbers = ", ".join(str(v.version) for v in versions[:10])
    if len(versions) > 10:
        numbers += f", ... ({len(versions)} versions)"
    if isinstance(wanted, int) and wanted >= 0:
        for v in versions:
            if v.version == wanted:
                return v
        raise missing(str(wanted), f"versions [{numbers}]")
    if isinstance(wanted, int):
        if -wanted < len(versions):
            return versions[-wanted]
        raise missing(f"{wanted} ({-wanted} before the current one)", f"-1 to {1 - len(versions)}")
    if isinstance(wanted, str):
        runs = {v.run_id for v in versions if v.run_id and v.run_id.startswith(wanted)}
        if len(runs) == 1:
            run = runs.pop()
            return next(v for v in versions if v.run_id == run)
        shown = sorted({v.run_id for v in versions if v.run_id})[:10]
        if runs:
            raise missing(f"of run {wanted!r} (it is a prefix of several)", str(sorted(runs)))
        raise missing(f"written by run {wanted!r}", f"a run id among {shown}")
    when = wanted if wanted.tzinfo is not None else wanted.replace(tzinfo=dt.UTC)
    for v in versions:
        if v.timestamp <= when:
            return v
    first = versions[-1].timestamp.isoformat() if versions else "none"
    raise missing(f"as of {when.isoformat()}", f"a time at or after the first version ({first})")
