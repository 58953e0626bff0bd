"""Code versions, data versions and the fingerprint a store computes while it writes.

Every materialization records three things in the run history:

- a **code version**: the asset's ``code_version=``, else ``src-`` and a hash of the function's
  source text (so editing the body, even a comment, changes it);
- a **data version**: the :class:`DataVersion` the body returned (``Output(data_version=)``,
  ``MaterializeResult(data_version=)``), else the fingerprint the I/O manager computed while it
  wrote the value (an XXH3-128 hash of the Arrow stream's buffers for tables, of the bytes
  for pickles: the same pass as the write, never a second read), else (an
  I/O manager that computes none) a hash of the code version and the input data versions, as
  Dagster does;
- the **data versions of its inputs** as they were when it ran.

Staleness and skip-unchanged runs (:mod:`wharf._core.staleness`) follow from these.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import tokenize
import weakref
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FINGERPRINT",
    "DataVersion",
    "Fingerprint",
    "HashingFile",
    "combined_version",
    "fingerprint_reader",
    "source_version",
]


@dataclass(frozen=True)
class DataVersion:
    """The version of an asset's data, as the body that computed it says.

    Two materializations with the same data version hold the same data: a downstream asset
    whose inputs keep their data versions is not stale.

    Examples:
        >>> DataVersion("2024-05-01").value
        '2024-05-01'
    """

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            from wharf.errors import DefinitionError

            msg = f"DataVersion(value) must be a string, got {type(self.value).__name__}"
            raise DefinitionError(msg, expected="str", got=type(self.value).__name__)


def version_text(value: Any) -> str | None:
    """A data version given by the user (a DataVersion or a string) as text."""
    if value is None:
        return None
    if isinstance(value, DataVersion):
        return value.value
    return str(value)


def source_version(fn: Any) -> str:
    """``src-`` and 16 hex digits of the SHA-256 of ``fn``'s source (its bytecode when the
    source cannot be read, e.g. a function typed into a REPL).

    Examples:
        >>> def f(): return 1
        >>> source_version(f).startswith("src-")
        True
    """
    fn = inspect.unwrap(fn)
    try:
        return _SOURCE_VERSIONS[fn]
    except (KeyError, TypeError):  # not computed yet, or fn cannot be weakly referenced
        pass
    try:
        text = inspect.getsource(fn).encode()
    except (OSError, TypeError, SyntaxError, tokenize.TokenError):
        # no source, or a file name that now names another file (it cannot be parsed)
        code = getattr(fn, "__code__", None)
        text = (code.co_code + repr(code.co_consts).encode()) if code else repr(fn).encode()
    version = "src-" + hashlib.sha256(text).hexdigest()[:16]
    with contextlib.suppress(TypeError):
        _SOURCE_VERSIONS[fn] = version
    return version


#: each function's source version, computed once per function object: reading the source is
#: the biggest cost of planning a run, and a function object's code never changes (an edited
#: and reloaded module makes new function objects)
_SOURCE_VERSIONS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def combined_version(code_version: str | None, inputs: Mapping[str, str | None]) -> str:
    """A data version made of a code version and input data versions (when nothing better
    is known).

    Examples:
        >>> combined_version("1", {"a": "x"}) == combined_version("1", {"a": "x"})
        True
        >>> combined_version("1", {"a": "x"}) == combined_version("2", {"a": "x"})
        False
    """
    text = json.dumps([code_version, sorted(inputs.items())], default=str)
    return "cv-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _xxh3(data: bytes = b"") -> Any:
    """A new XXH3-128 hash (``xxhash`` imported when a value is first fingerprinted)."""
    import xxhash

    return xxhash.xxh3_128(data)


class Fingerprint:
    """An XXH3-128 hash (xxhash) of what a store wrote, fed while it writes: a fingerprint
    tells values apart, it is no security boundary, and XXH3 hashes ~10x faster than SHA-256
    (``bench/versions.py``).

    Buffers are hashed where they come, in the writing thread: at XXH3's speed a helper thread
    costs more than it saves (handing 2,000 small batches' buffers through a queue took minutes
    where hashing them here takes milliseconds).

    Examples:
        >>> fp = Fingerprint()
        >>> fp.update(b"abc")
        >>> fp.hexdigest() == Fingerprint.of(b"abc")
        True
    """

    def __init__(self) -> None:
        self._hash = _xxh3()
        self.used = False

    @staticmethod
    def of(data: bytes) -> str:
        """The fingerprint of ``data`` alone."""
        return "xxh3-" + str(_xxh3(data).hexdigest())

    def update(self, data: Any) -> None:
        """Add bytes (or any buffer) to the hash."""
        self.used = True
        self._hash.update(data)

    def add_batch(self, batch: Any) -> None:
        """Add an Arrow record batch: each column's length, offset, nulls and buffers."""
        self.used = True
        for column in batch.columns:
            self._array(column)

    def _array(self, array: Any) -> None:
        if array.get_total_buffer_size() > 2 * array.nbytes + 4096:
            # a slice (a batch of a bigger table) shares its parent's whole buffers: hash a
            # compact copy of its own rows, not the parent's buffers once per batch
            import pyarrow as pa

            array = pa.concat_arrays([array])
        self.update(f"{array.type}|{len(array)}|{array.offset}|{array.null_count};".encode())
        for buf in array.buffers():
            if buf is not None:
                self.update(buf)

    def hexdigest(self) -> str:
        """The fingerprint of everything added so far."""
        return "xxh3-" + str(self._hash.hexdigest())


#: the fingerprint the running output's store feeds (None: nobody asked for one)
FINGERPRINT: ContextVar[Fingerprint | None] = ContextVar("wharf_fingerprint", default=None)


def fingerprint_reader(reader: Any) -> Any:
    """``reader`` as is, or, while a fingerprint is asked for, a reader that hashes each batch
    as the store pulls it (the schema first)."""
    fp = FINGERPRINT.get()
    if fp is None:
        return reader
    import pyarrow as pa

    fp.update(reader.schema.serialize())

    def batches() -> Iterator[Any]:
        for batch in reader:
            fp.add_batch(batch)
            yield batch

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


class HashingFile:
    """A binary file that feeds the running fingerprint with every write (for pickles)."""

    def __init__(self, file: Any) -> None:
        self._file = file
        self._fp = FINGERPRINT.get()

    def write(self, data: Any) -> int:
        if self._fp is not None:
            self._fp.update(bytes(data) if isinstance(data, memoryview) else data)
        return int(self._file.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)
