"""Partitions: the slices an asset is split into (``@asset(partitions_def=...)``).

A partitions definition lists partition keys (strings). Static ones are fixed, dynamic ones are
added at run time and kept by a :class:`~wharf._core.instance.DagsterInstance` (by default in
``$WHARF_HOME/history.sqlite``), time-window ones (:mod:`.time_windows`) follow a calendar, and
a multi-partitions definition is the cross product of two of those.

Every key is checked before it can become a path or a SQL value: a key is a non-empty string
without ``/``, ``\\``, NUL or control characters and is not ``.`` or ``..``
(:func:`check_partition_key`). Pure Python: nothing here imports more than the standard library.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

from wharf._core.keys import check_safe_name
from wharf.errors import DefinitionError, UnknownPartitionError

if TYPE_CHECKING:
    from wharf._core.partitioning.time_windows import TimeWindow

MULTIPARTITION_KEY_DELIMITER = "|"


class DynamicPartitionsStore(Protocol):
    """Where dynamic partition keys are kept (a :class:`~wharf._core.instance.DagsterInstance`)."""

    def get_dynamic_partitions(self, partitions_def_name: str) -> Sequence[str]: ...


def check_partition_key(key: object, *, asset: str | None = None) -> str:
    """Return ``key`` if it is safe as one path segment and as a bound SQL value, else raise.

    Examples:
        >>> check_partition_key("2024-01-01")
        '2024-01-01'
        >>> check_partition_key("a/b")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        wharf.errors.UnsafeNameError: partition key 'a/b' is unsafe as a path or table name: ...
    """
    return check_safe_name(key, what="partition key", asset=asset)  # type: ignore[arg-type]


class PartitionKeyRange(NamedTuple):
    """The partitions from ``start`` to ``end``, both included (in the definition's order)."""

    start: str
    end: str


class PartitionsDefinition(ABC):
    """The set of partition keys an asset is split into."""

    #: True for :class:`~wharf._core.partitioning.time_windows.TimeWindowPartitionsDefinition`.
    is_time_window: ClassVar[bool] = False

    @abstractmethod
    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """Every partition key, in order."""

    @abstractmethod
    def describe(self) -> str:
        """A short description for messages, e.g. ``DailyPartitionsDefinition from 2024-01-01``."""

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        """Whether ``partition_key`` is one of this definition's keys."""
        return partition_key in self.get_partition_keys(current_time, dynamic_partitions_store)

    def get_partition_keys_in_range(
        self,
        partition_key_range: PartitionKeyRange,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The keys from ``partition_key_range.start`` to ``.end``, both included."""
        keys = self.get_partition_keys(dynamic_partitions_store=dynamic_partitions_store)
        bounds = []
        for key in partition_key_range:
            if key not in keys:
                raise self.unknown_key(key, keys=keys)
            bounds.append(keys.index(key))
        return _range_between(keys, bounds[0], bounds[1], partition_key_range)

    def get_first_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        keys = self.get_partition_keys(current_time, dynamic_partitions_store)
        return keys[0] if keys else None

    def get_last_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        keys = self.get_partition_keys(current_time, dynamic_partitions_store)
        return keys[-1] if keys else None

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        return len(self.get_partition_keys(current_time, dynamic_partitions_store))

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        """The time window of a key; only time-window (and multi with a time) definitions."""
        msg = f"{self.describe()} has no time windows: expected a time-window partitions definition"
        raise DefinitionError(
            msg, expected="a time-window partitions definition", got=self.describe()
        )

    def check_key(
        self,
        partition_key: object,
        *,
        asset: str | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
        current_time: datetime | None = None,
    ) -> str:
        """Return ``partition_key`` if it is safe and one of this definition's keys, else raise."""
        key = self.check_key_safe(partition_key, asset=asset)
        if not self.has_partition_key(key, current_time, dynamic_partitions_store):
            keys = self.get_partition_keys(current_time, dynamic_partitions_store)
            raise self.unknown_key(key, keys=keys, asset=asset)
        return key

    def check_key_safe(self, partition_key: object, *, asset: str | None = None) -> str:
        """Return ``partition_key`` if it can become a path segment and a bound value."""
        return check_partition_key(partition_key, asset=asset)

    def unknown_key(
        self, key: str, *, keys: Sequence[str], asset: str | None = None
    ) -> UnknownPartitionError:
        """The error for a key that is not one of ``keys``."""
        whose = f"asset {asset!r} ({self.describe()})" if asset else self.describe()
        if not keys:
            hint = "it has no partitions yet"
        elif len(keys) <= 6:
            hint = f"expected one of {list(keys)}"
        else:
            hint = f"expected one of {len(keys)} keys from {keys[0]!r} to {keys[-1]!r}"
        msg = f"{whose} has no partition {key!r}: {hint}"
        return UnknownPartitionError(msg, asset=asset, expected=hint, got=repr(key))


def _range_between(keys: Sequence[str], i: int, j: int, rng: PartitionKeyRange) -> list[str]:
    if i > j:
        msg = f"partition range {rng.start!r}...{rng.end!r} is reversed: expected start <= end"
        raise DefinitionError(msg, expected="start before end", got=f"{rng.start}...{rng.end}")
    return list(keys[i : j + 1])


class StaticPartitionsDefinition(PartitionsDefinition):
    """A fixed list of partition keys.

    Examples:
        >>> StaticPartitionsDefinition(["eu", "us"]).get_partition_keys()
        ['eu', 'us']
    """

    def __init__(self, partition_keys: Sequence[str]) -> None:
        keys = [check_partition_key(k) for k in partition_keys]
        self._known = frozenset(keys)
        if len(self._known) < len(keys):
            seen: set[str] = set()
            dupes = sorted({k for k in keys if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
            msg = f"StaticPartitionsDefinition has duplicate keys {dupes}: expected each key once"
            raise DefinitionError(msg, expected="unique keys", got=str(dupes))
        self._keys = tuple(keys)

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        return partition_key in self._known

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return list(self._keys)

    def describe(self) -> str:
        return f"StaticPartitionsDefinition with {len(self._keys)} keys"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticPartitionsDefinition) and self._keys == other._keys

    def __hash__(self) -> int:
        return hash(self._keys)

    def __repr__(self) -> str:
        return f"StaticPartitionsDefinition({list(self._keys)!r})"


class DynamicPartitionsDefinition(PartitionsDefinition):
    """Partition keys added while the system runs (files that arrived, customers signed up).

    Keys live in a :class:`~wharf._core.instance.DagsterInstance`: by default the persistent one
    in ``$WHARF_HOME`` (so ``wharf materialize`` in another process sees them), or the instance
    passed to ``materialize(instance=...)``. Add them with :meth:`add_partitions` or
    ``instance.add_dynamic_partitions(name, keys)`` (also ``context.instance`` in an asset).

    Examples:
        >>> from wharf._core.instance import DagsterInstance
        >>> files = DynamicPartitionsDefinition(name="files")
        >>> instance = DagsterInstance.ephemeral()
        >>> files.add_partitions(["a.csv", "b.csv"], instance=instance)
        >>> files.get_partition_keys(dynamic_partitions_store=instance)
        ['a.csv', 'b.csv']
    """

    def __init__(
        self,
        partition_fn: Callable[[datetime | None], Sequence[str]] | None = None,
        name: str | None = None,
    ) -> None:
        if (partition_fn is None) == (name is None):
            msg = "DynamicPartitionsDefinition needs exactly one of name= or partition_fn="
            raise DefinitionError(msg, expected="name or partition_fn", got="both or neither")
        self.partition_fn = partition_fn
        self.name = check_safe_name(name, what="dynamic partitions name") if name else None

    def _store(self, store: DynamicPartitionsStore | None) -> DynamicPartitionsStore:
        if store is not None:
            return store
        from wharf._core.instance import DagsterInstance

        return DagsterInstance.get()

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        if self.partition_fn is not None:
            return [check_partition_key(k) for k in self.partition_fn(current_time)]
        assert self.name is not None
        return list(self._store(dynamic_partitions_store).get_dynamic_partitions(self.name))

    def add_partitions(self, partition_keys: Sequence[str], instance: Any = None) -> None:
        """Add keys (kept once each, in the order first added) to this definition."""
        self._instance(instance).add_dynamic_partitions(self._name(), partition_keys)

    def delete_partition(self, partition_key: str, instance: Any = None) -> None:
        """Remove one key (its stored data stays where it is)."""
        self._instance(instance).delete_dynamic_partition(self._name(), partition_key)

    def _instance(self, instance: Any) -> Any:
        from wharf._core.instance import DagsterInstance

        return instance if instance is not None else DagsterInstance.get()

    def _name(self) -> str:
        if self.name is None:
            msg = "this DynamicPartitionsDefinition has a partition_fn: expected name= to add keys"
            raise DefinitionError(msg, expected="a named definition", got="partition_fn")
        return self.name

    def describe(self) -> str:
        return f"DynamicPartitionsDefinition {self.name or 'with partition_fn'!r}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DynamicPartitionsDefinition) and (
            self.name,
            self.partition_fn,
        ) == (other.name, other.partition_fn)

    def __hash__(self) -> int:
        return hash((self.name, self.partition_fn))

    def __repr__(self) -> str:
        return f"DynamicPartitionsDefinition(name={self.name!r})"


class MultiPartitionKey(str):
    """A key of a :class:`MultiPartitionsDefinition`: the dimension keys joined by ``|`` (in the
    order of the dimension names), with :attr:`keys_by_dimension`.

    Examples:
        >>> key = MultiPartitionKey({"region": "eu", "date": "2024-01-01"})
        >>> key, key.keys_by_dimension["region"]
        ('2024-01-01|eu', 'eu')
    """

    _keys: dict[str, str]

    def __new__(cls, keys_by_dimension: Mapping[str, str]) -> MultiPartitionKey:
        ordered = dict(sorted(keys_by_dimension.items()))
        for dim, key in ordered.items():
            check_partition_key(key)
            if MULTIPARTITION_KEY_DELIMITER in key:
                msg = f"partition key {key!r} of dimension {dim!r} contains '|'"
                raise DefinitionError(msg, expected="no '|' in a dimension key", got=repr(key))
        self = super().__new__(cls, MULTIPARTITION_KEY_DELIMITER.join(ordered.values()))
        self._keys = ordered
        return self

    @property
    def keys_by_dimension(self) -> dict[str, str]:
        return dict(self._keys)

    @property
    def dimension_keys(self) -> list[PartitionDimensionKey]:
        """One ``(dimension_name, partition_key)`` per dimension, in dimension-name order."""
        return [PartitionDimensionKey(dim, key) for dim, key in self._keys.items()]

    def __reduce__(self) -> tuple[Any, ...]:
        return (MultiPartitionKey, (self._keys,))


class PartitionDimensionKey(NamedTuple):
    """One dimension's part of a :class:`MultiPartitionKey`."""

    dimension_name: str
    partition_key: str


class PartitionDimensionDefinition(NamedTuple):
    """One dimension of a :class:`MultiPartitionsDefinition`."""

    name: str
    partitions_def: PartitionsDefinition


class MultiPartitionsDefinition(PartitionsDefinition):
    """The cross product of two partitions definitions (static, dynamic or time-window).

    Keys are :class:`MultiPartitionKey`: ``"2024-01-01|eu"`` with dimensions ordered by name.

    Examples:
        >>> multi = MultiPartitionsDefinition({
        ...     "region": StaticPartitionsDefinition(["eu", "us"]),
        ...     "kind": StaticPartitionsDefinition(["a"]),
        ... })
        >>> multi.get_partition_keys()
        ['a|eu', 'a|us']
    """

    def __init__(self, partitions_defs: Mapping[str, PartitionsDefinition]) -> None:
        if len(partitions_defs) != 2:
            msg = f"MultiPartitionsDefinition has {len(partitions_defs)} dimensions: expected 2"
            raise DefinitionError(msg, expected="2 dimensions", got=str(len(partitions_defs)))
        dims = []
        for name, pdef in sorted(partitions_defs.items()):
            check_safe_name(name, what="partition dimension name")
            if not isinstance(pdef, StaticPartitionsDefinition | DynamicPartitionsDefinition) and (
                not pdef.is_time_window
            ):
                kind = type(pdef).__name__
                msg = f"dimension {name!r} is a {kind}: expected static, dynamic or time"
                raise DefinitionError(
                    msg, expected="static, dynamic or time", got=type(pdef).__name__
                )
            if isinstance(pdef, StaticPartitionsDefinition):
                for key in pdef.get_partition_keys():
                    MultiPartitionKey({name: key})  # rejects '|'
            dims.append(PartitionDimensionDefinition(name, pdef))
        if sum(d.partitions_def.is_time_window for d in dims) > 1:
            msg = "MultiPartitionsDefinition has two time dimensions: expected at most one"
            raise DefinitionError(msg, expected="at most one time dimension", got="two")
        self._dims = tuple(dims)

    @property
    def partitions_defs(self) -> list[PartitionDimensionDefinition]:
        return list(self._dims)

    @property
    def partition_dimension_names(self) -> list[str]:
        return [d.name for d in self._dims]

    @property
    def time_window_dimension(self) -> PartitionDimensionDefinition | None:
        return next((d for d in self._dims if d.partitions_def.is_time_window), None)

    def get_partitions_def_for_dimension(self, dimension_name: str) -> PartitionsDefinition:
        for dim in self._dims:
            if dim.name == dimension_name:
                return dim.partitions_def
        msg = f"{self.describe()} has no dimension {dimension_name!r}"
        raise DefinitionError(msg, expected=str(self.partition_dimension_names), got=dimension_name)

    def get_partition_key_from_str(self, partition_key_str: str) -> MultiPartitionKey:
        """``"2024-01-01|eu"`` -> :class:`MultiPartitionKey`."""
        if isinstance(partition_key_str, MultiPartitionKey):
            return partition_key_str
        parts = str(partition_key_str).split(MULTIPARTITION_KEY_DELIMITER)
        if len(parts) != len(self._dims):
            names = "|".join(f"<{d.name}>" for d in self._dims)
            msg = f"partition key {partition_key_str!r} of {self.describe()} is not {names}"
            raise UnknownPartitionError(msg, expected=names, got=repr(partition_key_str))
        return MultiPartitionKey({d.name: p for d, p in zip(self._dims, parts, strict=True)})

    def check_key_safe(self, partition_key: object, *, asset: str | None = None) -> str:
        if not isinstance(partition_key, str):
            return check_partition_key(partition_key, asset=asset)
        key = self.get_partition_key_from_str(partition_key)
        for part in key.keys_by_dimension.values():
            check_partition_key(part, asset=asset)
        return key

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        per_dim = [
            d.partitions_def.get_partition_keys(current_time, dynamic_partitions_store)
            for d in self._dims
        ]
        return self._product(per_dim)

    def _product(self, per_dim: Sequence[Sequence[str]]) -> list[str]:
        names = [d.name for d in self._dims]
        return [
            MultiPartitionKey(dict(zip(names, combo, strict=True)))
            for combo in itertools.product(*per_dim)
        ]

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        try:
            key = self.get_partition_key_from_str(partition_key)
        except (UnknownPartitionError, DefinitionError):
            return False
        return all(
            d.partitions_def.has_partition_key(
                key.keys_by_dimension[d.name], current_time, dynamic_partitions_store
            )
            for d in self._dims
        )

    def get_partition_keys_in_range(
        self,
        partition_key_range: PartitionKeyRange,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        start = self.get_partition_key_from_str(partition_key_range.start).keys_by_dimension
        end = self.get_partition_key_from_str(partition_key_range.end).keys_by_dimension
        per_dim = [
            d.partitions_def.get_partition_keys_in_range(
                PartitionKeyRange(start[d.name], end[d.name]), dynamic_partitions_store
            )
            for d in self._dims
        ]
        return self._product(per_dim)

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        dim = self.time_window_dimension
        if dim is None:
            return super().time_window_for_partition_key(partition_key)
        key = self.get_partition_key_from_str(partition_key)
        return dim.partitions_def.time_window_for_partition_key(key.keys_by_dimension[dim.name])

    def describe(self) -> str:
        inner = ", ".join(f"{d.name}: {d.partitions_def.describe()}" for d in self._dims)
        return f"MultiPartitionsDefinition({inner})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MultiPartitionsDefinition) and self._dims == other._dims

    def __hash__(self) -> int:
        return hash(self._dims)

    def __repr__(self) -> str:
        return self.describe()


def check_partitions_def(value: object, *, asset: str) -> PartitionsDefinition | None:
    """``value`` if it is None or a :class:`PartitionsDefinition`, else a definition error."""
    if value is None or isinstance(value, PartitionsDefinition):
        return value
    msg = (
        f"asset {asset!r} has partitions_def={value!r}: expected a PartitionsDefinition "
        "(StaticPartitionsDefinition, DailyPartitionsDefinition, ...)"
    )
    raise DefinitionError(
        msg, asset=asset, expected="a PartitionsDefinition", got=type(value).__name__
    )
