"""``keep_versions=N`` of the file and object-store managers: the last N values of each asset.

Off by default: values are where Dagster puts them (``<key>.parquet`` or the pickle ``<key>``).
With ``keep_versions=N`` each value of an asset (of each partition of a partitioned asset) is
written once, to a file of its own in the folder ``<key>.versions/`` (``<version>-<id>.parquet``
or ``.pickle``), and then made current by replacing the folder's pointer,
``<key>.versions/versions.json``: the list of the kept versions, newest first, with the run
that wrote each. Readers read the pointer, then the file it names. So a write is published by
one atomic step (a rename on local disk, one PUT on an object store): a writer that fails or is
killed before it leaves the previous value and pointer as they were (at most an unlisted file
in the folder). After the publish the versions beyond the newest N are deleted, and the value
at Dagster's path, if an earlier write without ``keep_versions`` left one, is removed (it is
no longer current); until the first versioned write it still loads as the current value.

Two writers of one value at the same moment both read the pointer and publish their own list:
the later publish is current (as without versions), but the other's version may be missing
from it (its file stays unlisted). The pointer is replaced, not compared-and-swapped: local
renames and object-store PUTs here have no condition on the previous pointer.

A version's number is its write time in microseconds since the Unix epoch (one more than the
previous one if the clock did not advance), so the versions of different partitions order in
time: ``load_asset_value(key, version=v)`` loads each partition as it was at ``v``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from wharf._core.stored_versions import StoredVersion
from wharf.errors import StorageError, StoredValueNotFoundError

__all__ = [
    "POINTER",
    "VERSIONS_SUFFIX",
    "KeptVersion",
    "as_stored",
    "folder_of",
    "next_version",
    "parse_pointer",
    "pick_as_of",
    "pointer_bytes",
]

#: the pointer's name inside a value's versions folder
POINTER = "versions.json"
#: the versions folder of a value is its Dagster path (without extension) plus this
VERSIONS_SUFFIX = ".versions"
_FORMAT = 1


@dataclass(frozen=True)
class KeptVersion:
    """One kept version: its number, its file (in the versions folder), the run that wrote it."""

    version: int
    file: str
    run_id: str | None

    @property
    def kind(self) -> str:
        """``parquet`` or ``pickle``, from the file's name."""
        return "parquet" if self.file.endswith(".parquet") else "pickle"


def folder_of(base: Any) -> Any:
    """The versions folder of the value whose Dagster path (without extension) is ``base``."""
    return base.with_name(base.name + VERSIONS_SUFFIX)


def next_version(kept: list[KeptVersion]) -> tuple[int, str]:
    """The number and file stem of a new version written after ``kept`` (newest first).

    Examples:
        >>> n, stem = next_version([KeptVersion(2**62, "x.parquet", None)])
        >>> n == 2**62 + 1, stem.startswith(f"{n}-")
        (True, True)
    """
    now = time.time_ns() // 1000
    number = max(now, kept[0].version + 1) if kept else now
    return number, f"{number}-{uuid.uuid4().hex[:8]}"


def pointer_bytes(kept: list[KeptVersion]) -> bytes:
    """The pointer's content listing ``kept`` (newest first)."""
    rows = [{"version": k.version, "file": k.file, "run_id": k.run_id} for k in kept]
    return json.dumps({"wharf_versions": _FORMAT, "versions": rows}, indent=1).encode()


def parse_pointer(data: bytes, *, asset: str, io_manager: str, where: str) -> list[KeptVersion]:
    """The versions a pointer lists, newest first; a pointer that is not one is a
    :class:`StorageError` naming the asset, the manager and the path.

    Examples:
        >>> parse_pointer(pointer_bytes([KeptVersion(5, "5-ab.pickle", "r1")]),
        ...               asset="a", io_manager="M", where="p")
        [KeptVersion(version=5, file='5-ab.pickle', run_id='r1')]
    """
    try:
        doc = json.loads(data)
        if doc.get("wharf_versions") != _FORMAT:
            raise ValueError(f"format {doc.get('wharf_versions')!r}")
        return [
            KeptVersion(int(row["version"]), str(row["file"]), row.get("run_id"))
            for row in doc["versions"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        msg = (
            f"asset {asset!r}: {io_manager} cannot read the versions pointer at {where} "
            f"({type(exc).__name__}: {exc}): expected the JSON list of kept versions that "
            "keep_versions writes"
        )
        raise StorageError(
            msg, asset=asset, io_manager=io_manager, expected="a wharf versions pointer",
            got=f"{type(exc).__name__}: {exc}",
        ) from exc  # fmt: skip


def pick_as_of(
    kept: list[KeptVersion], wanted: int | None, *, asset: str, io_manager: str, where: str
) -> KeptVersion:
    """The version current at version number ``wanted`` (None: the newest one): the newest
    whose number is not above it; none is a :class:`StoredValueNotFoundError`.

    Examples:
        >>> kept = [KeptVersion(9, "9-a.pickle", None), KeptVersion(4, "4-b.pickle", None)]
        >>> [pick_as_of(kept, w, asset="a", io_manager="M", where="p").version
        ...  for w in (None, 9, 8, 4)]
        [9, 9, 4, 4]
    """
    for k in kept:
        if wanted is None or k.version <= wanted:
            return k
    oldest = kept[-1].version if kept else None
    got = "nothing stored" if oldest is None else f"the oldest kept version is {oldest}"
    msg = (
        f"asset {asset!r} has no version at or before {wanted} at {where} ({io_manager}): "
        f"expected a value stored by then, got {got}"
    )
    raise StoredValueNotFoundError(
        msg, asset=asset, io_manager=io_manager, expected=f"a version <= {wanted}", got=got
    )


def as_stored(kept: KeptVersion, partition: str | None) -> StoredVersion:
    """How ``stored_versions`` lists a kept version (``partition``: of which partition)."""
    when = dt.datetime.fromtimestamp(kept.version / 1e6, tz=dt.UTC)
    what = "WRITE" if partition is None else f"WRITE partition {partition}"
    return StoredVersion(kept.version, when, what, kept.run_id)
