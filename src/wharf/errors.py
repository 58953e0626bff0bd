"""The errors wharf raises.

Every error is built from fields (the asset, the resource or I/O manager, what was expected and
what came) and names them in its message. Each class also inherits the builtin exception a
caller would expect, so ``except TypeError`` still catches a wrong return type.

Exception tree::

    WharfError
    ├── DefinitionError (ValueError)        the assets/resources do not form a valid Definitions
    │   ├── CycleError                      assets depend on each other in a loop
    │   ├── DuplicateKeyError               two assets share one key
    │   ├── UnsafeNameError                 a key or partition cannot be a path or table name
    │   ├── UnknownPartitionError (KeyError) a partition key is not one of the asset's partitions
    │   └── MissingResourceError (KeyError) an io_manager_key / resource key has no resource
    ├── UnknownAssetError (KeyError)        a name or selection names no asset
    ├── ConfigError (ValueError)            bad resource configuration, unknown field
    │   └── MissingEnvVarError              an EnvVar is not set when the run starts
    ├── AssetTypeError (TypeError)          a value does not fit its annotation or its store
    ├── StorageError (OSError)              a store failed to read or write; the old value is intact
    │   ├── StoredValueNotFoundError (FileNotFoundError)  an input was never stored
    │   └── StoreLockedError                another process holds the store's lock
    ├── MissingDependencyError (ImportError) an optional back-end is not installed
    └── AssetExecutionError (RuntimeError)  an asset failed or was skipped
"""

from __future__ import annotations

__all__ = [
    "AssetExecutionError",
    "AssetTypeError",
    "ConfigError",
    "CycleError",
    "DefinitionError",
    "DuplicateKeyError",
    "MissingDependencyError",
    "MissingEnvVarError",
    "MissingResourceError",
    "StorageError",
    "StoreLockedError",
    "StoredValueNotFoundError",
    "UnknownAssetError",
    "UnknownPartitionError",
    "UnsafeNameError",
    "WharfError",
]


class WharfError(Exception):
    """Root of every error wharf raises.

    Args:
        message: the full sentence shown to the user.
        asset: the asset key (as ``a/b`` text) the error is about, if any.
        io_manager: the resource key or I/O manager class involved, if any.
        expected: what wharf expected.
        got: what it found instead.

    Examples:
        >>> err = WharfError("boom", asset="sales", io_manager="io_manager")
        >>> err.asset, str(err)
        ('sales', 'boom')
    """

    def __init__(
        self,
        message: str,
        *,
        asset: str | None = None,
        io_manager: str | None = None,
        expected: str | None = None,
        got: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.asset = asset
        self.io_manager = io_manager
        self.expected = expected
        self.got = got

    def __str__(self) -> str:
        return self.message

    def naming(self, asset: str, io_manager: str) -> None:
        """Fill in the asset and I/O manager where a lower layer (a store) could not, and name
        them in the message.

        Examples:
            >>> err = WharfError("table t is locked")
            >>> err.naming("sales", "DuckDBIOManager")
            >>> str(err), err.asset
            ("asset 'sales' (DuckDBIOManager): table t is locked", 'sales')
        """
        if self.asset is None:
            self.asset = asset
            self.message = f"asset {asset!r} ({io_manager}): {self.message}"
            self.args = (self.message, *self.args[1:])
        if self.io_manager is None:
            self.io_manager = io_manager


class DefinitionError(WharfError, ValueError):
    """The assets and resources given do not form a valid set of definitions."""


class CycleError(DefinitionError):
    """Assets depend on each other in a loop."""


class DuplicateKeyError(DefinitionError):
    """Two assets share one key."""


class UnsafeNameError(DefinitionError):
    """An asset key or partition key cannot safely become a path or table name."""


class UnknownPartitionError(DefinitionError, KeyError):
    """A partition key (given to a run, or produced by a partition mapping) is not one of the
    partitions of the asset's ``partitions_def``."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class MissingResourceError(DefinitionError, KeyError):
    """An asset needs a resource key (often an ``io_manager_key``) that no resource provides."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class UnknownAssetError(WharfError, KeyError):
    """A parameter, a selection or a lookup names no asset."""

    def __str__(self) -> str:
        return self.message


class ConfigError(WharfError, ValueError):
    """A resource or I/O manager was configured wrongly (unknown field, bad value)."""


class MissingEnvVarError(ConfigError):
    """An ``EnvVar`` names a variable that is not set when the run starts."""


class AssetTypeError(WharfError, TypeError):
    """A value is not of the type an annotation or an I/O manager expects."""


class StorageError(WharfError, OSError):
    """A store failed to read or write. The previously stored value is intact."""

    def __str__(self) -> str:
        return self.message


class StoredValueNotFoundError(StorageError, FileNotFoundError):
    """An input was asked for but its asset (or partition) was never stored."""


class StoreLockedError(StorageError):
    """Another process holds the store's write lock and did not release it in time."""


class MissingDependencyError(WharfError, ImportError):
    """An optional back-end library is not installed; the message names the extra to install."""


class AssetExecutionError(WharfError, RuntimeError):
    """An asset did not complete, e.g. its value was asked of a run where it failed (the
    original exception is the ``__cause__``) or was skipped."""
