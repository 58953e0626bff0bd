"""Dagster's older config schemas: ``config_schema={"limit": Field(Int, default_value=10)}``.

A schema is a Python type (``int``, ``str``, ``bool``, ``float``, ``list``, ``dict``), one of the
named types (``Int``, ``String``, ``Bool``, ``Float``, ``Any``), a ``Field`` (a schema with a
default, a description, required or not), ``Shape`` / a plain dict (fixed keys), ``Permissive``
(fixed keys plus any other), ``Noneable``, ``Array`` or ``Enum``. :func:`validate` checks a value
against one and fills in the defaults; an error names the path (``ops.raw.config.limit``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wharf.errors import ConfigError

__all__ = [
    "Array",
    "Bool",
    "Enum",
    "EnumValue",
    "Field",
    "Float",
    "Int",
    "Noneable",
    "Permissive",
    "Selector",
    "Shape",
    "String",
    "check_schema",
    "validate",
]

_NO_DEFAULT: Any = object()


class _Scalar:
    def __init__(self, name: str, types: tuple[type, ...]) -> None:
        self.name, self.types = name, types

    def __repr__(self) -> str:
        return self.name


Int = _Scalar("Int", (int,))
String = _Scalar("String", (str,))
Bool = _Scalar("Bool", (bool,))
Float = _Scalar("Float", (float, int))
AnyType = _Scalar("Any", (object,))
_PY_TYPES: dict[Any, _Scalar] = {int: Int, str: String, bool: Bool, float: Float, Any: AnyType}


class Field:
    """A config field: its schema, and a default or whether it must be given.

    Examples:
        >>> validate({"limit": Field(Int, default_value=10)}, {}, "config")
        {'limit': 10}
    """

    def __init__(
        self,
        config: Any = AnyType,
        default_value: Any = _NO_DEFAULT,
        is_required: bool | None = None,
        description: str | None = None,
    ) -> None:
        self.config_type = check_schema(config, "Field")
        self.default_value = default_value
        self.description = description
        has_default = default_value is not _NO_DEFAULT
        if is_required and has_default:
            msg = "Field(is_required=True, default_value=...): a required field has no default"
            raise ConfigError(msg, expected="one of is_required or default_value", got="both")
        ct = self.config_type
        optional_type = isinstance(ct, Noneable) or (
            isinstance(ct, Shape)
            and not isinstance(ct, Selector)
            and not any(f.is_required for f in ct.fields.values())
        )
        self.is_required: bool = (
            is_required if is_required is not None else not (has_default or optional_type)
        )

    @property
    def has_default_value(self) -> bool:
        return self.default_value is not _NO_DEFAULT

    def __repr__(self) -> str:
        return f"Field({self.config_type!r})"


class Shape:
    """Fixed keys, each with its own schema (a plain dict means the same)."""

    def __init__(self, fields: Mapping[str, Any], description: str | None = None) -> None:
        self.fields: dict[str, Field] = {}
        for key, value in fields.items():
            try:
                self.fields[key] = _as_field(value)
            except ConfigError as exc:
                exc.message = f"field {key!r}: {exc.message}"
                exc.args = (exc.message,)
                raise
        self.description = description

    allow_extra = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.fields)})"


class Permissive(Shape):
    """Fixed keys (checked) plus any other keys (passed through)."""

    allow_extra = True

    def __init__(self, fields: Mapping[str, Any] | None = None, description: str | None = None):
        super().__init__(fields or {}, description)


class Selector(Shape):
    """Exactly one of the keys."""


class Noneable:
    """The inner schema, or None."""

    def __init__(self, inner: Any) -> None:
        self.inner = check_schema(inner, "Noneable")

    def __repr__(self) -> str:
        return f"Noneable({self.inner!r})"


class Array:
    """A list whose items all match the inner schema."""

    def __init__(self, inner: Any) -> None:
        self.inner = check_schema(inner, "Array")

    def __repr__(self) -> str:
        return f"Array({self.inner!r})"


class EnumValue:
    """One value of an :class:`Enum`: the config string and the Python value it stands for."""

    def __init__(self, config_value: str, python_value: Any = None, description: str | None = None):
        self.config_value = config_value
        self.python_value = config_value if python_value is None else python_value
        self.description = description


class Enum:
    """One of a fixed set of strings."""

    def __init__(self, name: str, enum_values: Sequence[EnumValue]) -> None:
        self.name = name
        self.values = {v.config_value: v.python_value for v in enum_values}

    def __repr__(self) -> str:
        return f"Enum({self.name})"


def _as_field(value: Any) -> Field:
    return value if isinstance(value, Field) else Field(value)


def check_schema(schema: Any, where: str) -> Any:
    """``schema`` in its normal form (dict -> Shape, int -> Int, [int] -> Array(Int)).

    Raises:
        ConfigError: ``schema`` is not a config schema.
    """
    if isinstance(schema, _Scalar | Shape | Noneable | Array | Enum):
        return schema
    if isinstance(schema, Field):
        return schema.config_type
    if isinstance(schema, type) or schema is Any:
        found = _PY_TYPES.get(schema)
        if found is not None:
            return found
    if schema is dict:
        return Permissive()
    if schema is list:
        return Array(AnyType)
    if isinstance(schema, Mapping):
        return Shape(schema)
    if isinstance(schema, list) and len(schema) == 1:
        return Array(schema[0])
    msg = (
        f"{where}: {schema!r} is not a config schema: expected int, str, bool, float, a dict of "
        "fields, Field(...), Shape, Permissive, Noneable, Array or Enum"
    )
    raise ConfigError(msg, expected="a config schema", got=type(schema).__name__)


def _bad(path: str, expected: str, value: Any) -> ConfigError:
    msg = f"config at {path!r}: expected {expected}, got {value!r} ({type(value).__name__})"
    return ConfigError(msg, expected=expected, got=repr(value))


def validate(schema: Any, value: Any, path: str) -> Any:
    """``value`` checked against ``schema`` with defaults filled in; errors name ``path``."""
    schema = check_schema(schema, path)
    if isinstance(schema, Noneable):
        return None if value is None else validate(schema.inner, value, path)
    if isinstance(schema, _Scalar):
        ok = isinstance(value, schema.types) and not (
            schema is not Bool and schema is not AnyType and isinstance(value, bool)
        )
        if not ok:
            raise _bad(path, schema.name, value)
        return float(value) if schema is Float else value
    if isinstance(schema, Array):
        if not isinstance(value, list | tuple):
            raise _bad(path, f"a list of {schema.inner!r}", value)
        return [validate(schema.inner, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(schema, Enum):
        if value not in schema.values:
            raise _bad(path, f"one of {', '.join(map(repr, schema.values))}", value)
        return schema.values[value]
    return _validate_shape(schema, value, path)


def _validate_shape(schema: Shape, value: Any, path: str) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise _bad(path, f"a dict with keys {', '.join(schema.fields) or '(none)'}", value)
    if isinstance(schema, Selector):
        if len(value) != 1 or next(iter(value)) not in schema.fields:
            raise _bad(path, f"exactly one of {', '.join(schema.fields)}", dict(value))
        ((key, inner),) = value.items()
        return {key: validate(schema.fields[key].config_type, inner, f"{path}.{key}")}
    unknown = [k for k in value if k not in schema.fields]
    if unknown and not schema.allow_extra:
        known = ", ".join(schema.fields) or "no fields"
        msg = (
            f"config at {path!r} has unknown field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}: expected only {known}"
        )
        raise ConfigError(msg, expected=known, got=", ".join(map(str, unknown)))
    out: dict[str, Any] = {k: value[k] for k in unknown}
    for name, fld in schema.fields.items():
        where = f"{path}.{name}"
        if name in value:
            out[name] = validate(fld.config_type, value[name], where)
        elif fld.has_default_value:
            out[name] = fld.default_value
        elif fld.is_required:
            msg = f"config at {where!r} is missing: expected a value of type {fld.config_type!r}"
            raise ConfigError(msg, expected=repr(fld.config_type), got="nothing")
        elif isinstance(fld.config_type, Noneable):
            out[name] = None
        elif isinstance(fld.config_type, Shape):
            out[name] = validate(fld.config_type, {}, where)
    return out
