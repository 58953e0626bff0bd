"""Find the ``Definitions`` of a code location: a module (``-m``) or a Python file (``-f``)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from wharf.cli.common import CliError
from wharf.errors import WharfError

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions


def load_definitions(
    module: str | None, file: str | None, attribute: str | None = None
) -> tuple[Definitions, str]:
    """Import the module or file and return its ``Definitions`` and a label for messages.

    With ``file``, the file's folder goes first on ``sys.path`` so sibling imports work; with
    ``module``, the current directory does.

    Raises:
        CliError: the file or module does not exist, fails to import, or holds no single
            ``Definitions`` (or not the one ``attribute`` names).
        WharfError: building the definitions failed (cycle, duplicate key, missing resource).
    """
    if file is not None:
        mod, where = _import_file(Path(file)), file
    elif module is not None:
        mod, where = _import_module(module), module
    else:
        msg = "no code location given: expected -m MODULE or -f FILE"
        raise CliError(msg)
    defs = _find_definitions(mod, where, attribute)
    defs.validate_resources()  # a missing resource fails here, before anything runs
    return defs, where


def _prepend_path(folder: str) -> None:
    if folder not in sys.path:
        sys.path.insert(0, folder)


def _import_file(path: Path) -> ModuleType:
    if not path.exists():
        msg = f"file {str(path)!r} does not exist: expected a Python file that defines Definitions"
        raise CliError(msg)
    if not path.is_file() or path.suffix != ".py":
        msg = f"{str(path)!r} is not a Python file: expected a .py file that defines Definitions"
        raise CliError(msg)
    path = path.resolve()
    _prepend_path(str(path.parent))
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) != str(path):
        name = f"__wharf_file__.{path.stem}"  # never shadow an imported module of that name
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always have one
        msg = f"cannot import {str(path)!r}: expected an importable .py file"
        raise CliError(msg)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, WharfError) or not isinstance(exc, Exception):
            raise
        raise _import_failure(exc, str(path)) from None
    return mod


def _import_module(name: str) -> ModuleType:
    _prepend_path(os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            msg = f"no module named {name!r}: expected it in the current directory or installed"
            raise CliError(msg) from None
        raise _import_failure(exc, name) from None
    except WharfError:
        raise
    except Exception as exc:
        raise _import_failure(exc, name) from None


def _import_failure(exc: Exception, where: str) -> CliError:
    """The error of user code that failed to import, with its traceback minus import machinery."""
    here = str(Path(__file__).parent)
    tb = traceback.TracebackException.from_exception(exc)
    tb.stack = traceback.StackSummary.from_list(
        [f for f in tb.stack if "importlib" not in f.filename and not f.filename.startswith(here)]
    )
    text = "".join(tb.format()).rstrip()
    return CliError(f"importing {where!r} failed:\n{text}")


def _find_definitions(mod: ModuleType, where: str, attribute: str | None) -> Definitions:
    from wharf._core.definitions import Definitions
    from wharf._core.op_jobs import OpJobDefinition

    found = {name: v for name, v in vars(mod).items() if isinstance(v, Definitions)}
    names = ", ".join(sorted(found)) or "none"
    if attribute is not None:
        if not hasattr(mod, attribute):
            msg = f"{where!r} has no attribute {attribute!r}: expected one of [{names}]"
            raise CliError(msg)
        value = getattr(mod, attribute)
        if not isinstance(value, Definitions):
            msg = (
                f"{where}:{attribute} is a {type(value).__name__}, not wharf.Definitions: "
                f"expected one of [{names}]"
            )
            raise CliError(msg)
        return value
    distinct = {id(v): v for v in found.values()}
    jobs = {id(v): v for v in vars(mod).values() if isinstance(v, OpJobDefinition)}
    if not distinct and jobs:  # a file with jobs of ops only, as Dagster's `-f FILE -j JOB`
        return Definitions(jobs=list(jobs.values()))
    if not distinct:
        msg = (
            f"no Definitions found in {where!r}: expected a module-level variable holding "
            "wharf.Definitions, e.g. `defs = dg.Definitions(assets=[...])`"
        )
        raise CliError(msg)
    if len(distinct) > 1:
        msg = f"{where!r} has several Definitions [{names}]: choose one with --attribute NAME"
        raise CliError(msg)
    return next(iter(distinct.values()))
