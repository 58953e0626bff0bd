"""Where the Parquet-or-pickle managers put values, and the checks that keep those places apart.

A value of asset key ``a/b`` is stored at ``a/b.parquet`` (a table) or ``a/b`` (a pickle), one
partition at ``a/b/<key>.parquet`` or ``a/b/<key>``. So asset ``orders`` and an asset named
``orders.parquet`` would share one file, and so would partition keys ``p`` and ``p.parquet``;
on a file system that ignores case (macOS, Windows), ``Orders`` and ``orders`` too. Before a
run, :func:`check_blob_outputs` refuses such pairs, and names longer than the local file
system allows; at write time :func:`check_local_path` refuses a path that is too long or that
a symlinked folder would lead outside the storage folder.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wharf._core.keys import AssetKey, check_safe_name
from wharf._core.partitioning.definitions import MultiPartitionKey, check_partition_key
from wharf._io.kept_versions import VERSIONS_SUFFIX
from wharf._stores.blob import check_lengths as _check_lengths
from wharf._stores.blob import check_local_path, name_limits
from wharf.errors import DefinitionError, StorageError

if TYPE_CHECKING:
    from wharf._core.partitioning.definitions import PartitionsDefinition

__all__ = [
    "TABLE_SUFFIX",
    "case_insensitive",
    "check_blob_outputs",
    "check_local_path",
    "check_partition_apart",
    "name_limits",
]

TABLE_SUFFIX = ".parquet"


def _partition_parts(key: Any) -> list[str]:
    if isinstance(key, MultiPartitionKey):
        return [check_partition_key(p) for p in key.keys_by_dimension.values()]
    return [check_partition_key(key)]


def _static_keys(partitions: PartitionsDefinition) -> list[Any]:
    """The partition keys known before a run (dynamic ones are checked as they are written)."""
    try:
        return list(partitions.get_partition_keys())
    except Exception:  # dynamic partitions need the instance
        return []


def _value_places(
    key: AssetKey, partitions: PartitionsDefinition | None
) -> list[tuple[str, tuple[str, ...]]]:
    """``(what, parts)`` of each value of ``key`` (each partition's), without an extension."""
    parts = tuple(check_safe_name(p, what="asset key part") for p in key.path)
    if partitions is None:
        return [("", parts)]
    keys = _static_keys(partitions)
    return [(f" partition {k!r}", parts + tuple(_partition_parts(k))) for k in keys]


def stored_paths(
    key: AssetKey, partitions: PartitionsDefinition | None
) -> Iterable[tuple[str, tuple[str, ...]]]:
    """``(what, parts)`` for every place a value of ``key`` may be stored (both forms)."""
    for what, place in _value_places(key, partitions):
        yield what, place
        yield what, (*place[:-1], place[-1] + TABLE_SUFFIX)


def _check_versions_apart(
    manager: str,
    outputs: Iterable[tuple[AssetKey, Mapping[str, Any]]],
    partitions: Mapping[AssetKey, PartitionsDefinition | None],
    fold: bool,
) -> None:
    """With ``keep_versions``, a value's versions live in the folder ``<key>.versions/``: no
    other value (asset ``orders.versions`` beside ``orders``, partition ``p.versions`` beside
    ``p``, an asset whose key starts with ``orders.versions``) may be stored at it or in it."""

    def norm(place: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(p.casefold() for p in place) if fold else place

    folders: dict[tuple[str, ...], tuple[str, str]] = {}
    for key, _ in outputs:
        for what, place in _value_places(key, partitions.get(key)):
            folders[norm((*place[:-1], place[-1] + VERSIONS_SUFFIX))] = (key.to_user_string(), what)
    for key, _ in outputs:
        asset = key.to_user_string()
        for what, place in stored_paths(key, partitions.get(key)):
            found = norm(place)
            for end in range(1, len(found) + 1):
                owner, owner_what = folders.get(found[:end], (asset, what))
                if (owner, owner_what) == (asset, what):
                    continue
                folder = "/".join(place[:end])
                msg = (
                    f"asset {asset!r}{what} would be stored at {'/'.join(place)}, and "
                    f"{manager} (keep_versions) keeps the versions of asset {owner!r}"
                    f"{owner_what} in the folder {folder}/: one would destroy the other; "
                    "expected one place per value, so rename one of them"
                )
                raise DefinitionError(
                    msg, asset=asset, io_manager=manager, expected="one place per value",
                    got=f"{asset}{what} in the versions folder of {owner}{owner_what}",
                )  # fmt: skip


def check_blob_outputs(
    manager: str,
    outputs: Iterable[tuple[AssetKey, Mapping[str, Any]]],
    partitions: Mapping[AssetKey, PartitionsDefinition | None],
    *,
    local_base: Path | None = None,
    versions: bool = False,
) -> None:
    """Refuse, before a run, two assets (or partitions) that would be stored in one place, and
    (with ``local_base``) names the local file system cannot hold; ``versions``: the manager
    keeps versions (``keep_versions``), each value's in ``<key>.versions/``, kept apart too."""
    fold = local_base is not None and case_insensitive(local_base)
    outputs = list(outputs)
    if versions:
        _check_versions_apart(manager, outputs, partitions, fold)
    limits = name_limits(local_base) if local_base is not None else None
    seen: dict[tuple[str, ...], tuple[str, str]] = {}
    for key, _ in outputs:
        asset = key.to_user_string()
        for what, place in stored_paths(key, partitions.get(key)):
            if local_base is not None and limits is not None:
                path = local_base.joinpath(*place)
                _check_lengths(manager, asset + what, path, limits, DefinitionError)
            same = tuple(p.casefold() for p in place) if fold else place
            other, other_what = seen.setdefault(same, (asset, what))
            if (other, other_what) != (asset, what):
                where = "/".join(place)
                case = " (this file system ignores case)" if fold else ""
                msg = (
                    f"asset {other!r}{other_what} and asset {asset!r}{what} would both be stored "
                    f"at {where}{case} by {manager}, which stores a table at '<key>{TABLE_SUFFIX}' "
                    "and any other value at '<key>': one would destroy the other; expected one "
                    "place per value, so rename one of them"
                )
                raise DefinitionError(
                    msg, asset=asset, io_manager=manager, expected="one place per value",
                    got=f"{other}{other_what} and {asset}{what} at {where}",
                )  # fmt: skip


def check_partition_apart(
    manager: str, asset: str, key: str, keys: Iterable[str], *, fold: bool
) -> None:
    """At write time (dynamic keys are known only then): no other partition key of the asset
    is stored where ``key`` is (``p`` and ``p.parquet``; keys equal ignoring case if ``fold``)."""

    def norm(k: str) -> str:
        return k.casefold() if fold else k

    mine = {norm(key), norm(key + TABLE_SUFFIX)}
    for other in keys:
        if other != key and (norm(other) in mine or norm(other + TABLE_SUFFIX) in mine):
            msg = (
                f"{manager} cannot store partition {key!r} of asset {asset!r}: partition "
                f"{other!r} is stored in the same place (a table at '<key>{TABLE_SUFFIX}', any "
                "other value at '<key>'); expected partition keys that stay apart (nothing "
                "was written)"
            )
            raise StorageError(
                msg, asset=asset, io_manager=manager, expected="one place per partition",
                got=f"{key} and {other}",
            )  # fmt: skip


@cache
def case_insensitive(folder: Path) -> bool:
    """Whether names in ``folder`` (or its nearest existing ancestor) ignore case: an entry
    found again under its name with the case swapped; without a lettered entry, a probe file."""
    existing = Path(os.path.abspath(folder))
    while not os.path.isdir(existing) and existing != existing.parent:
        existing = existing.parent
    try:
        with os.scandir(existing) as entries:
            for entry in entries:
                swapped = entry.name.swapcase()
                if swapped != entry.name:
                    return os.path.lexists(existing / swapped)
        probe = existing / f".wharf-case-probe-{os.getpid()}"
        probe.touch()
        try:
            return os.path.lexists(existing / probe.name.upper())
        finally:
            probe.unlink()
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
            return False  # nothing can be written there either
        raise
