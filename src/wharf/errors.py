"""The errors wharf raises.

Every error is built from fields (the asset, the resource or I/O manager, what was expected and
what came) and names them in its message. Each class also inherits the builtin exception a
caller would expect, so ``except TypeError`` still catches a wrong return type, and the Dagster
error class Dagster raises in the same situation, so
``pytest.raises(dg.DagsterInvalidDefinitionError)`` catches what it catches under Dagster.

Exception tree (Dagster classes in brackets)::

    WharfError [DagsterError]
    ├── DefinitionError (ValueError) [DagsterInvalidDefinitionError]
    │   │                                   the assets/resources do not form a valid Definitions
    │   ├── CycleError                      assets depend on each other in a loop
    │   ├── DuplicateKeyError               two assets share one key
    │   ├── UnsafeNameError                 a key or partition cannot be a path or table name
    │   ├── UnknownPartitionError (KeyError) [DagsterUnknownPartitionError]
    │   │                                   a partition key is not one of the asset's partitions
    │   ├── InvalidSubsetError [DagsterInvalidSubsetError]
    │   │                                   a selection splits a multi-asset that cannot be split
    │   └── MissingResourceError (KeyError) an io_manager_key / resource key has no resource
    │       └── UnknownResourceError (AttributeError) [DagsterUnknownResourceError]
    │                                       ``context.resources.<key>`` names no resource
    ├── UnknownAssetError (KeyError) [DagsterInvalidSubsetError, DagsterInvariantViolationError,
    │                                 DagsterInvalidDefinitionError]
    │                                       a name or selection names no asset
    ├── InvalidInvocationError (TypeError) [DagsterInvalidInvocationError]
    │                                       a context or definition was built or called wrongly
    ├── ContextError (ValueError) [DagsterInvariantViolationError]
    │                                       a context was asked what its run does not have
    ├── ConfigError (ValueError) [DagsterInvalidConfigError]
    │   │                                   bad resource configuration, unknown field
    │   └── MissingEnvVarError              an EnvVar is not set when the run starts
    ├── AssetTypeError (TypeError) [DagsterTypeCheckDidNotPass]
    │                                       a value does not fit its annotation or its store
    ├── StorageError (OSError)              a store failed to read or write; the old value is intact
    │   ├── StoredValueNotFoundError (FileNotFoundError)  an input was never stored
    │   └── StoreLockedError                another process holds the store's lock
    ├── MissingDependencyError (ImportError) an optional back-end is not installed
    ├── AssetExecutionError (RuntimeError) [DagsterInvariantViolationError]
    │                                       an asset's value was asked of a run where it failed
    └── StepOutputError (ValueError) [DagsterStepOutputNotFoundError,
                                      DagsterInvariantViolationError]
                                            a step's outputs are not the ones it declares

The Dagster classes themselves (:class:`DagsterError` and its subclasses, below the wharf tree)
carry no behaviour of their own: user code may raise them (an I/O manager raising
``DagsterInvariantViolationError``) and catch them, as it does under Dagster. A failing asset
body raises its own exception out of ``materialize`` (as Dagster's ``raise_on_error`` does);
the ``DagsterExecutionStepExecutionError`` family names the wrapper Dagster reports in a
``STEP_FAILURE`` event.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AssetExecutionError",
    "AssetTypeError",
    "ConfigError",
    "ContextError",
    "CycleError",
    "DagsterError",
    "DagsterExecutionHandleOutputError",
    "DagsterExecutionInterruptedError",
    "DagsterExecutionLoadInputError",
    "DagsterExecutionStepExecutionError",
    "DagsterInvalidConfigDefinitionError",
    "DagsterInvalidConfigError",
    "DagsterInvalidDefinitionError",
    "DagsterInvalidInvocationError",
    "DagsterInvalidSubsetError",
    "DagsterInvariantViolationError",
    "DagsterResourceFunctionError",
    "DagsterRunNotFoundError",
    "DagsterStepOutputNotFoundError",
    "DagsterTypeCheckDidNotPass",
    "DagsterTypeCheckError",
    "DagsterUnknownPartitionError",
    "DagsterUnknownResourceError",
    "DagsterUnmetExecutorRequirementsError",
    "DagsterUserCodeExecutionError",
    "DefinitionError",
    "DuplicateKeyError",
    "InvalidInvocationError",
    "InvalidSubsetError",
    "MissingDependencyError",
    "MissingEnvVarError",
    "MissingResourceError",
    "StepOutputError",
    "StorageError",
    "StoreLockedError",
    "StoredValueNotFoundError",
    "UnknownAssetError",
    "UnknownPartitionError",
    "UnknownResourceError",
    "UnsafeNameError",
    "WharfError",
]


# -- Dagster's error classes ---------------------------------------------------------------------


class DagsterError(Exception):
    """Dagster's root error class; every wharf error is one.

    Examples:
        >>> import wharf as dg
        >>> issubclass(dg.errors.WharfError, dg.DagsterError)
        True
    """

    @property
    def is_user_code_error(self) -> bool:
        """True for errors that wrap an exception raised by user code."""
        return False


class DagsterInvalidDefinitionError(DagsterError):
    """The rules for a definition (asset, resource, Definitions) were broken."""


class DagsterInvalidSubsetError(DagsterError):
    """A selection names assets (or ops) that are not there."""


class DagsterInvariantViolationError(DagsterError):
    """A rule that can only be checked while running was broken."""


class DagsterInvalidInvocationError(DagsterError):
    """A definition or context was called or built with arguments it does not take."""


class DagsterInvalidConfigError(DagsterError):
    """Configuration does not fit its schema."""


class DagsterInvalidConfigDefinitionError(DagsterError):
    """A config schema itself is not valid."""


class DagsterTypeCheckDidNotPass(DagsterError):  # noqa: N818 (Dagster's name)
    """A value failed its type check.

    Args:
        description: what failed (wharf's message).
        metadata: metadata about the failure.
        dagster_type: the type that was checked, if any.
    """

    def __init__(
        self, description: str | None = None, metadata: Any = None, dagster_type: Any = None
    ) -> None:
        super().__init__(description)
        self.description = description
        self.metadata = dict(metadata or {})
        self.dagster_type = dagster_type


class DagsterUnknownResourceError(DagsterError, AttributeError):
    """A step asked its context for a resource it was not given (an ``AttributeError``, so
    ``hasattr(context.resources, key)`` is False)."""


class DagsterUnknownPartitionError(DagsterError):
    """A partition key is not one of the partitions definition's keys."""


class DagsterStepOutputNotFoundError(DagsterError):
    """An output a step needs was not produced."""


class DagsterRunNotFoundError(DagsterError):
    """A run id names no run in the instance."""


class DagsterUnmetExecutorRequirementsError(DagsterError):
    """The executor cannot run with this instance or these resources."""


class DagsterUserCodeExecutionError(DagsterError):
    """Wraps an exception user code raised; ``user_exception`` is that exception.

    Args:
        *args: the message.
        user_exception: the exception user code raised.
        original_exc_info: ``sys.exc_info()`` where it was caught.
        **kwargs: Dagster's extra fields (``step_key``, ``op_name``, ...), kept as attributes.
    """

    def __init__(
        self,
        *args: Any,
        user_exception: BaseException | None = None,
        original_exc_info: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args)
        self.user_exception = user_exception
        self.original_exc_info = original_exc_info
        for name, value in kwargs.items():
            setattr(self, name, value)

    @property
    def is_user_code_error(self) -> bool:
        """True: this error wraps an exception raised by user code."""
        return True


class DagsterExecutionStepExecutionError(DagsterUserCodeExecutionError):
    """The body of a step (an asset or op function) raised."""


class DagsterExecutionLoadInputError(DagsterUserCodeExecutionError):
    """An I/O manager's ``load_input`` raised."""


class DagsterExecutionHandleOutputError(DagsterUserCodeExecutionError):
    """An I/O manager's ``handle_output`` raised."""


class DagsterTypeCheckError(DagsterUserCodeExecutionError):
    """A type check function itself raised."""


class DagsterResourceFunctionError(DagsterUserCodeExecutionError):
    """A resource's setup (its function or ``setup_for_execution``) raised."""


class DagsterExecutionInterruptedError(BaseException):
    """The run was interrupted (like ``KeyboardInterrupt``, not an ``Exception``)."""


# -- wharf's tree ----------------------------------------------------------------------------------


class WharfError(DagsterError):
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


class DefinitionError(WharfError, DagsterInvalidDefinitionError, ValueError):
    """The assets and resources given do not form a valid set of definitions."""


class CycleError(DefinitionError):
    """Assets depend on each other in a loop."""


class DuplicateKeyError(DefinitionError):
    """Two assets share one key."""


class UnsafeNameError(DefinitionError):
    """An asset key or partition key cannot safely become a path or table name."""


class UnknownPartitionError(DefinitionError, DagsterUnknownPartitionError, KeyError):
    """A partition key (given to a run, or produced by a partition mapping) is not one of the
    partitions of the asset's ``partitions_def``."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class InvalidSubsetError(DefinitionError, DagsterInvalidSubsetError):
    """A selection has some of the assets of a multi-asset without ``can_subset=True``."""


class MissingResourceError(DefinitionError, KeyError):
    """An asset needs a resource key (often an ``io_manager_key``) that no resource provides."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class UnknownResourceError(MissingResourceError, DagsterUnknownResourceError):
    """A step asked ``context.resources`` for a key it was not given. Also an ``AttributeError``,
    so ``hasattr(context.resources, key)`` and ``getattr(..., default)`` work."""


class InvalidInvocationError(WharfError, DagsterInvalidInvocationError, TypeError):
    """A context builder or a definition was called with arguments it does not take."""


class ContextError(WharfError, DagsterInvariantViolationError, ValueError):
    """A context was asked for something its run does not have (the partition key of an
    unpartitioned run, the asset key of a context that belongs to no asset)."""


class UnknownAssetError(
    WharfError,
    DagsterInvalidSubsetError,
    DagsterInvariantViolationError,
    DagsterInvalidDefinitionError,
    KeyError,
):
    """A parameter, a selection or a lookup names no asset."""

    def __str__(self) -> str:
        return self.message


class ConfigError(WharfError, DagsterInvalidConfigError, ValueError):
    """A resource or I/O manager was configured wrongly (unknown field, bad value)."""


class MissingEnvVarError(ConfigError):
    """An ``EnvVar`` names a variable that is not set when the run starts."""


class AssetTypeError(WharfError, DagsterTypeCheckDidNotPass, TypeError):
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


class AssetExecutionError(WharfError, DagsterInvariantViolationError, RuntimeError):
    """An asset did not complete, e.g. its value was asked of a run where it failed (the
    original exception is the ``__cause__``) or was skipped."""


class StepOutputError(
    WharfError, DagsterStepOutputNotFoundError, DagsterInvariantViolationError, ValueError
):
    """An asset or op produced outputs other than the ones it declares: a required output is
    missing, an ``output_name`` is unknown or given twice, a ``DynamicOutput`` repeats a
    ``mapping_key``. Nothing of the step is stored."""
