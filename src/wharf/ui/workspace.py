"""The code location ``wharf dev`` shows: loaded once, loaded again when its file changes."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wharf._core.history import RunHistory, wharf_home

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions

MASK = "**********"
#: field names whose values are secrets even when they are not given as an EnvVar
_SECRET_WORDS = ("password", "secret", "token", "credential", "private_key", "access_key", "sas")


@dataclass(frozen=True)
class Location:
    """Where the definitions are: ``-m MODULE`` or ``-f FILE``, and ``-a NAME``."""

    module: str | None = None
    file: str | None = None
    attribute: str | None = None

    def argv(self) -> list[str]:
        """The same location as ``wharf`` command-line options."""
        out = ["-m", self.module] if self.module else ["-f", str(self.file)]
        return [*out, "-a", self.attribute] if self.attribute else out


class Workspace:
    """The loaded ``Definitions`` of a location, reloaded when the source file's mtime changes.

    A location that fails to load keeps the last good definitions and reports the error
    (``load_error``) instead of taking the server down.
    """

    def __init__(self, location: Location, home: Path | None = None) -> None:
        self.location = location
        self.home = home or wharf_home()
        self.load_error: str | None = None
        self._defs: Definitions | None = None
        self._stamp: float | None = None
        self._lock = threading.Lock()
        self._secrets: list[str] = []
        self.generation = 0

    def history(self) -> RunHistory:
        """A new connection to the run history (SQLite connections stay in their thread)."""
        return RunHistory(self.home / "history.sqlite")

    def _source(self) -> Path | None:
        if self.location.file:
            return Path(self.location.file).resolve()
        mod = sys.modules.get(self.location.module or "")
        found = getattr(mod, "__file__", None)
        return Path(found) if found else None

    def _mtime(self) -> float | None:
        src = self._source()
        try:
            return src.stat().st_mtime if src is not None else None
        except OSError:
            return None

    def defs(self) -> Definitions:
        """The definitions, loaded again first if the source file changed since the last load.

        Raises:
            CliError: the first load failed (later failures keep the last good definitions).
        """
        with self._lock:
            if self._defs is None or self._mtime() != self._stamp:
                self._load()
            assert self._defs is not None
            return self._defs

    def _load(self) -> None:
        from wharf.cli.common import CliError
        from wharf.cli.load import load_definitions

        loc = self.location
        stamp = self._mtime()
        if loc.module and loc.module in sys.modules and self._defs is not None:
            try:
                importlib.reload(sys.modules[loc.module])
            except Exception as exc:  # the last good definitions stay, with the error shown
                self.load_error = f"{type(exc).__name__}: {exc}"
                self._stamp = stamp
                return
        try:
            defs, _ = load_definitions(loc.module, loc.file, loc.attribute)
        except Exception as exc:
            self.load_error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self._stamp = stamp
            if self._defs is None:
                raise CliError(self.load_error) from exc
            return
        self._defs, self._stamp, self.load_error = defs, stamp, None
        self._secrets = secret_values(defs.resources)
        self.generation += 1

    def redact(self, text: str) -> str:
        """``text`` with every secret value of the resources (also JSON-escaped) masked."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
            escaped = json.dumps(secret)[1:-1]
            if escaped != secret:
                text = text.replace(escaped, MASK)
        return text


def secret_values(resources: dict[str, Any]) -> list[str]:
    """The values no page may show: what every ``EnvVar`` field resolves to now, fields named
    like secrets (password, token, ...), and what a resource's ``secret_values()`` lists."""
    from wharf._core.env import EnvVar

    found: set[str] = set()

    def visit(obj: Any, depth: int = 0) -> None:
        if depth > 4:
            return
        extra = getattr(obj, "secret_values", None)
        if callable(extra):
            with contextlib.suppress(Exception):  # one that cannot list them hides no more
                found.update(str(v) for v in extra() if v)
        fields = getattr(type(obj), "model_fields", None)
        if not isinstance(fields, dict):
            return
        for name in fields:
            value = getattr(obj, "__dict__", {}).get(name)
            if isinstance(value, EnvVar):
                resolved = os.environ.get(value.env_var_name)
                if resolved:
                    found.add(resolved)
            elif isinstance(value, str) and value and any(w in name.lower() for w in _SECRET_WORDS):
                found.add(value)
            elif value is not None and hasattr(type(value), "model_fields"):
                visit(value, depth + 1)

    for resource in resources.values():
        visit(resource)
    # longest first, so a secret that contains another is masked whole; 3+ characters only
    return sorted((s for s in found if len(s) >= 3), key=len, reverse=True)
