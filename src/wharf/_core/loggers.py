"""``@logger`` / ``LoggerDefinition``: a named factory of a :class:`logging.Logger` that
``Definitions(loggers=)`` adds to every run's ``context.log``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from wharf.errors import DefinitionError


class LoggerDefinition:
    """A logger factory: ``logger_fn(init_context) -> logging.Logger``.

    Examples:
        >>> import logging, wharf as dg
        >>> @dg.logger
        ... def stderr_logger(init_context) -> logging.Logger:
        ...     return logging.getLogger("mine")
        >>> isinstance(stderr_logger, dg.LoggerDefinition)
        True
    """

    def __init__(
        self,
        logger_fn: Callable[..., logging.Logger],
        config_schema: Any = None,
        description: str | None = None,
    ) -> None:
        if not callable(logger_fn):
            msg = f"LoggerDefinition({logger_fn!r}): expected a function returning a logging.Logger"
            raise DefinitionError(msg, expected="a function", got=type(logger_fn).__name__)
        self.logger_fn = logger_fn
        self.config_schema = config_schema
        self.description = description or getattr(logger_fn, "__doc__", None)

    def __repr__(self) -> str:
        return f"LoggerDefinition({getattr(self.logger_fn, '__name__', '?')})"


def logger(config_schema: Any = None, description: str | None = None) -> Any:
    """Declare a logger: bare (``@logger``) or with arguments (``@logger(description=...)``)."""
    if callable(config_schema) and not isinstance(config_schema, type | dict):
        return LoggerDefinition(config_schema)

    def wrap(fn: Callable[..., logging.Logger]) -> LoggerDefinition:
        return LoggerDefinition(fn, config_schema, description)

    return wrap
