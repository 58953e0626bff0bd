"""``ConfigurableResource``: typed, validated resource configuration (pydantic v2).

This module imports pydantic, so ``import wharf`` loads it only when a name from it is used.
"""

from __future__ import annotations

import contextvars
import difflib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from wharf._core.env import EnvVar
from wharf.errors import ConfigError

_MASK = "**********"
# Set while validating a partial config: pydantic then calls __init__, which must not recurse.
_PLAIN_INIT = contextvars.ContextVar("wharf_plain_init", default=False)


@dataclass
class InitResourceContext:
    """What a resource or I/O manager factory sees when a run sets it up."""

    # repr=False: the config may hold secrets resolved from EnvVars.
    resource_config: Mapping[str, Any] = field(default_factory=dict, repr=False)
    resources: Any = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("wharf"))
    run_id: str | None = None
    resource_key: str | None = None
    #: the run's :class:`~wharf.DagsterInstance` (None outside a run)
    instance: Any = None


def _unknown_field_error(cls: type[BaseModel], unknown: list[str]) -> ConfigError:
    known = sorted(info.alias or name for name, info in cls.model_fields.items())
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    msg = (
        f"{cls.__name__} got unknown config field{'s' if len(unknown) > 1 else ''} "
        f"{', '.join(hints)}: expected only {', '.join(known) or 'no fields'}"
    )
    return ConfigError(
        msg, io_manager=cls.__name__, expected=", ".join(known), got=", ".join(unknown)
    )


def _validation_error(cls: type[BaseModel], errors: list[Any]) -> ConfigError:
    parts = []
    for err in errors:
        path = [str(p) for p in err["loc"]]
        field = cls.model_fields.get(path[0]) if path else None
        if field is not None and field.alias:  # the name the user wrote: schema, not schema_
            path[0] = field.alias
        loc = ".".join(path) or "(config)"
        got = "" if err["type"] == "missing" else f", got {err.get('input')!r}"
        parts.append(f"field {loc!r}: {err['msg']}{got}")
    msg = f"{cls.__name__} has invalid config: " + "; ".join(parts)
    return ConfigError(msg, io_manager=cls.__name__, expected="valid config", got="; ".join(parts))


class ConfigurableResource(BaseModel):
    """A resource whose configuration is declared as typed fields.

    Unknown fields are an error, not silently ignored. A field may be given as an
    :class:`~wharf.EnvVar`; it is read when a run starts, and its value is masked in reprs.

    Examples:
        >>> class Api(ConfigurableResource):
        ...     url: str
        ...     token: str
        >>> Api(url="http://x", token=EnvVar("API_TOKEN"))
        Api(url='http://x', token=EnvVar('API_TOKEN'))
        >>> Api(url="http://x", tokn="t")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        wharf.errors.ConfigError: Api got unknown config field 'tokn' (did you mean 'token'?): ...
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, populate_by_name=True
    )

    _wharf_secrets: frozenset[str] = PrivateAttr(default=frozenset())

    def __init__(self, **data: Any) -> None:
        cls = type(self)
        if _PLAIN_INIT.get():
            super().__init__(**data)
            return
        unknown = [k for k in data if k not in _field_names(cls)]
        if unknown:
            raise _unknown_field_error(cls, unknown)
        data = {_ALIASES.get((cls, k), k): v for k, v in data.items()} if _has_alias(cls) else data
        env_fields = {k for k, v in data.items() if isinstance(v, EnvVar)}
        try:
            if not env_fields:
                super().__init__(**data)
                return
            # EnvVar fields are validated when the run resolves them; check the rest now.
            token = _PLAIN_INIT.set(True)
            try:
                cls.model_validate({k: v for k, v in data.items() if k not in env_fields})
            finally:
                _PLAIN_INIT.reset(token)
        except ValidationError as exc:
            errors = [
                e
                for e in exc.errors()
                if not (e["type"] == "missing" and e["loc"] and e["loc"][0] in env_fields)
            ]
            if errors:
                raise _validation_error(cls, errors) from None
        built = cls.model_construct(**data)
        for attr in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__"):
            object.__setattr__(self, attr, getattr(built, attr))
        object.__setattr__(self, "__pydantic_private__", built.__pydantic_private__)

    @classmethod
    def configure_at_launch(cls, **fields: Any) -> PartialResource:
        """This resource, its config (beyond ``fields``) given by each run's run config:
        ``{"resources": {key: {"config": {...}}}}`` or ``RunConfig(resources={key: ...})``."""
        unknown = [k for k in fields if k not in _field_names(cls)]
        if unknown:
            raise _unknown_field_error(cls, unknown)
        return PartialResource(cls, dict(fields))

    # -- run lifecycle ------------------------------------------------------------------
    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Called once when a run starts, on the resolved resource, after the resources held
        in its fields were set up (each once per run). Override to connect."""

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Called once when a run ends, even when it failed, before the resources held in its
        fields are torn down. Override to disconnect."""

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[Self]:
        """Set up, yield the resource for the run, tear down."""
        self.setup_for_execution(context)
        try:
            yield self
        finally:
            self.teardown_after_execution(context)

    # -- EnvVar resolution ----------------------------------------------------------------
    def resolve_env(self, resource_key: str | None = None) -> Self:
        """A copy with every :class:`EnvVar` (also in nested resources) read from the environment.

        Raises:
            MissingEnvVarError: a variable is not set; the message names it and the field.
        """
        values: dict[str, Any] = {}
        secrets = set(self._wharf_secrets)
        changed = False
        where = resource_key or type(self).__name__
        for name in type(self).model_fields:
            if name not in self.__dict__:
                continue
            value = self.__dict__[name]
            if isinstance(value, EnvVar):
                value = value.resolve(resource=where, field=name)
                secrets.add(name)
                changed = True
            elif isinstance(value, ConfigurableResource):
                resolved = value.resolve_env(f"{where}.{name}")
                changed = changed or resolved is not value
                value = resolved
            values[name] = value
        if not changed:
            return self
        try:
            fresh = type(self)(**{k: v for k, v in values.items() if k in self.model_fields_set})
        except ConfigError as exc:  # never echo a secret in the message
            for name in secrets:
                secret = str(values[name])
                if not secret:  # an empty value hides nothing (and "" is in every string)
                    continue
                exc.message = exc.message.replace(secret, _MASK)
                exc.got = (exc.got or "").replace(secret, _MASK)
            exc.args = (exc.message,)
            raise
        fresh.__pydantic_private__["_wharf_secrets"] = frozenset(secrets)  # type: ignore[index]
        return fresh

    @property
    def resource_config(self) -> dict[str, Any]:
        """The field values, as Dagster's ``context.resource_config`` shows them."""
        return {name: getattr(self, name) for name in type(self).model_fields}

    def __repr_args__(self) -> Any:
        fields = type(self).model_fields
        for name, value in super().__repr_args__():
            shown = fields[name].alias if name in fields and fields[name].alias else name
            yield shown, (_MASK if name in self._wharf_secrets else value)


# (class, alias) -> field name, for fields such as ``schema_`` that users spell ``schema``.
_ALIASES: dict[tuple[type[BaseModel], str], str] = {}


def _has_alias(cls: type[BaseModel]) -> bool:
    found = False
    for name, info in cls.model_fields.items():
        if info.alias and info.alias != name:
            _ALIASES[(cls, info.alias)] = name
            found = True
    return found


def _field_names(cls: type[BaseModel]) -> set[str]:
    """Field names and their aliases: both are accepted as config keys."""
    names = set(cls.model_fields)
    names.update(info.alias for info in cls.model_fields.values() if info.alias)
    return names


class PartialResource:
    """A :class:`ConfigurableResource` class and some of its fields; a run's config gives the
    rest (``configure_at_launch``)."""

    def __init__(self, cls: type[ConfigurableResource], fields: Mapping[str, Any]) -> None:
        self.resource_cls = cls
        self.fields = dict(fields)

    def build(self, config: Mapping[str, Any], path: str) -> ConfigurableResource:
        """The resource with ``config`` over the partial fields; errors name ``path``."""
        try:
            return self.resource_cls(**{**self.fields, **dict(config)})
        except ConfigError as exc:
            exc.message = f"run config at {path!r}: {exc.message}"
            exc.args = (exc.message,)
            raise

    def __repr__(self) -> str:
        return f"{self.resource_cls.__name__}.configure_at_launch()"
