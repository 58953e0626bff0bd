"""Asset keys, and the rule that keeps names safe as paths and table names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from wharf.errors import UnsafeNameError

#: a path separator, NUL or another control character
_FORBIDDEN = re.compile(r"[/\\\x00-\x1f]")
_RESERVED = frozenset(("", ".", ".."))


def check_safe_name(part: str, *, what: str, asset: str | None = None) -> str:
    """Return ``part`` if it can safely become one path segment or table name, else raise.

    Unsafe: empty, ``.`` or ``..``, a path separator, NUL or another control character.

    Examples:
        >>> check_safe_name("daily_sales", what="asset key part")
        'daily_sales'
        >>> check_safe_name("..", what="asset key part")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        wharf.errors.UnsafeNameError: asset key part '..' is unsafe as a path or table name: ...
    """
    if not isinstance(part, str):
        msg = f"{what} must be a string, got {type(part).__name__}: {part!r}"
        raise UnsafeNameError(msg, asset=asset, expected="str", got=type(part).__name__)
    if part in _RESERVED or _FORBIDDEN.search(part) is not None:
        where = f" (asset {asset!r})" if asset and asset != part else ""
        msg = (
            f"{what} {part!r}{where} is unsafe as a path or table name: expected a non-empty "
            "name without '/', '\\', NUL or control characters that is not '.' or '..'"
        )
        raise UnsafeNameError(msg, asset=asset, expected="a safe name", got=repr(part))
    return part


class AssetKey:
    """The identity of an asset: a path of one or more name parts.

    Args:
        path: one name, or a sequence of names (prefixes first).

    Examples:
        >>> AssetKey("sales")
        AssetKey(['sales'])
        >>> AssetKey(["warehouse", "sales"]).to_user_string()
        'warehouse/sales'
        >>> AssetKey.from_user_string("a/b") == AssetKey(["a", "b"])
        True
    """

    __slots__ = ("_hash", "path")

    def __init__(self, path: str | Sequence[str]) -> None:
        parts = [path] if isinstance(path, str) else list(path)
        if not parts:
            msg = "an asset key needs at least one name part, got an empty key"
            raise UnsafeNameError(msg, expected="one or more parts", got="[]")
        for part in parts:
            if not isinstance(part, str) or part in _RESERVED or _FORBIDDEN.search(part):
                check_safe_name(part, what="asset key part", asset="/".join(map(str, parts)))
        self.path: tuple[str, ...] = tuple(parts)
        self._hash = hash(self.path)

    @classmethod
    def from_user_string(cls, text: str) -> AssetKey:
        """Parse ``a/b/c`` into ``AssetKey(["a", "b", "c"])``."""
        return cls(text.split("/"))

    @classmethod
    def from_coercible(cls, value: CoercibleToAssetKey) -> AssetKey:
        """Accept an AssetKey, a string, or a sequence of strings."""
        return to_asset_key(value)

    def to_user_string(self) -> str:
        """The key as ``a/b/c``."""
        return "/".join(self.path)

    def to_string(self) -> str:
        """The key as Dagster prints it, e.g. ``["a", "b"]``."""
        inner = ", ".join(f'"{p}"' for p in self.path)
        return f"[{inner}]"

    def to_python_identifier(self) -> str:
        """The key as a Python-safe identifier, e.g. ``a__b``."""
        return "__".join(self.path).replace("-", "_").replace(" ", "_").replace(".", "_")

    def with_prefix(self, prefix: CoercibleToAssetKeyPrefix) -> AssetKey:
        """This key with ``prefix`` parts in front."""
        parts = [prefix] if isinstance(prefix, str) else list(prefix)
        return AssetKey([*parts, *self.path])

    @property
    def parent(self) -> AssetKey:
        """The key without its last part."""
        return AssetKey(self.path[:-1])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetKey) and self.path == other.path

    def __lt__(self, other: AssetKey) -> bool:
        return self.path < other.path

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"AssetKey({list(self.path)!r})"

    def __str__(self) -> str:
        return self.to_user_string()


CoercibleToAssetKey = AssetKey | str | Sequence[str]
CoercibleToAssetKeyPrefix = str | Sequence[str]


def to_asset_key(value: Any) -> AssetKey:
    """Coerce a key-like value (AssetKey, str, list of str, or anything with ``.key``).

    A plain string is one name part (``"a/b"`` is rejected as unsafe), as in Dagster.
    """
    if isinstance(value, AssetKey):
        return value
    if isinstance(value, str):
        return AssetKey(value)
    key = getattr(value, "key", None)
    if isinstance(key, AssetKey):
        return key
    if isinstance(value, Iterable):
        return AssetKey(list(value))
    msg = f"expected an asset key (str, list of str, AssetKey, asset or AssetSpec), got {value!r}"
    raise TypeError(msg)
