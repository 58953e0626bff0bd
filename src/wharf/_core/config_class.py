"""``Config``: an asset's or op's run configuration as typed fields (pydantic v2).

An asset takes it as a parameter annotated with the subclass (``def raw(config: RawConfig)``);
each run builds it from the run config (``RunConfig(ops={"raw": RawConfig(limit=5)})`` or
``{"ops": {"raw": {"config": {"limit": 5}}}}``), before anything runs.
"""

from __future__ import annotations

import contextvars
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from wharf.errors import ConfigError

# the run-config path of the Config being built from a run config (None: built directly)
_PATH: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "wharf_config_path", default=None
)


def config_error(cls: type[BaseModel], exc: ValidationError, path: str) -> ConfigError:
    """A :class:`ConfigError` naming each bad field by its full path (``ops.raw.config.limit``)."""
    parts = []
    for err in exc.errors():
        where = ".".join([path, *(str(p) for p in err["loc"])])
        if err["type"] == "missing":
            parts.append(f"{where!r} is missing")
        elif err["type"] == "extra_forbidden":
            known = ", ".join(cls.model_fields) or "no fields"
            parts.append(f"{where!r} is not a field of {cls.__name__} (expected only {known})")
        else:
            parts.append(f"{where!r}: {err['msg']}, got {err.get('input')!r}")
    msg = f"{cls.__name__} config is invalid: " + "; ".join(parts)
    return ConfigError(msg, expected=f"valid {cls.__name__}", got="; ".join(parts))


class Config(BaseModel):
    """Run configuration of an asset or op, declared as typed fields.

    Unknown fields, missing fields and values of the wrong type are a :class:`ConfigError`
    that names the field.

    Examples:
        >>> class RawConfig(Config):
        ...     limit: int = 10
        >>> RawConfig(limit=3).limit
        3
        >>> RawConfig(limt=3)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        wharf.errors.ConfigError: RawConfig config is invalid: 'RawConfig.limt' is not a field...
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    def __init__(self, **data: Any) -> None:
        path = _PATH.get() or type(self).__name__
        token = _PATH.set(None)  # nested Config fields validate as parts of this one
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(type(self), exc, path) from None
        finally:
            _PATH.reset(token)

    @classmethod
    def from_run_config(cls, value: Any, path: str) -> Config:
        """An instance from the run config's dict at ``path``; errors name the full path."""
        if not isinstance(value, dict | None):
            value = dict(value)
        token = _PATH.set(path)
        try:
            return cls(**(value or {}))
        finally:
            _PATH.reset(token)


class PermissiveConfig(Config):
    """A :class:`Config` that also keeps fields it does not declare."""

    model_config = ConfigDict(extra="allow", frozen=True, arbitrary_types_allowed=True)
