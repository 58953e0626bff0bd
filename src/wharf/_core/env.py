"""``EnvVar``: configuration read from the environment when a run starts."""

from __future__ import annotations

import builtins
import os

from wharf.errors import ConfigError, MissingEnvVarError


class EnvVar(str):
    """A configuration value taken from an environment variable when a run starts.

    The variable is read at run start, never at definition time, and its value never
    appears in a repr, a log line or metadata.

    Examples:
        >>> import os
        >>> os.environ["WHARF_DOC_TOKEN"] = "s3cret"
        >>> var = EnvVar("WHARF_DOC_TOKEN")
        >>> var
        EnvVar('WHARF_DOC_TOKEN')
        >>> var.get_value()
        's3cret'
    """

    __slots__ = ()

    @property
    def env_var_name(self) -> str:
        return str.__str__(self)

    @classmethod
    def int(cls, name: str) -> IntEnvVar:
        return IntEnvVar(name)

    def get_value(self, default: str | None = None) -> str | builtins.int | None:
        """The variable's value now, or ``default`` when unset."""
        value = os.environ.get(self.env_var_name)
        return default if value is None else self._convert(value, None, None)

    def resolve(
        self, *, resource: str | None = None, field: str | None = None
    ) -> str | builtins.int:
        """The value, or a :class:`MissingEnvVarError` naming the variable and its use."""
        value = os.environ.get(self.env_var_name)
        if value is None:
            where = ""
            if resource:
                where = f" for {resource!r}"
                if field:
                    where = f" for field {field!r} of resource {resource!r}"
            msg = (
                f"environment variable {self.env_var_name!r} is not set, but it is needed{where}: "
                f"expected it to be set when the run starts, got nothing. "
                f"Set it, e.g. `export {self.env_var_name}=...`"
            )
            raise MissingEnvVarError(
                msg, io_manager=resource, expected=f"${self.env_var_name} set", got="unset"
            )
        return self._convert(value, resource, field)

    def _convert(self, value: str, resource: str | None, field: str | None) -> str | builtins.int:
        return value

    def __repr__(self) -> str:
        return f"EnvVar({self.env_var_name!r})"


class IntEnvVar(EnvVar):
    """An :class:`EnvVar` whose value is parsed as an integer.

    Examples:
        >>> import os
        >>> os.environ["WHARF_DOC_PORT"] = "8080"
        >>> EnvVar.int("WHARF_DOC_PORT").get_value()
        8080
    """

    __slots__ = ()

    def _convert(self, value: str, resource: str | None, field: str | None) -> builtins.int:
        try:
            return builtins.int(value.strip())
        except ValueError:
            where = f" (field {field!r} of resource {resource!r})" if resource and field else ""
            # The value itself is not shown: an environment variable may hold a secret.
            msg = (
                f"environment variable {self.env_var_name!r}{where} must hold an integer "
                f"(EnvVar.int): expected digits, got a value of {len(value)} characters"
            )
            raise ConfigError(
                msg, io_manager=resource, expected="an integer", got="a non-integer value"
            ) from None

    def __repr__(self) -> str:
        return f"EnvVar.int({self.env_var_name!r})"
