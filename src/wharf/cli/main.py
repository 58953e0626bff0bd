"""The ``wharf`` entry point: argument parsing and exit codes.

Exit codes: 0 success; 1 an asset failed or was skipped, or a run could not finish;
2 a usage or definition problem (bad arguments, missing file, no ``Definitions``, unknown
asset key, invalid definitions or resource configuration).

Only :mod:`argparse` is imported up front so ``wharf --help`` stays fast; each command's
module (and rich) loads when the command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Callable, Sequence

from wharf.cli.common import CliError, describe_error, error

Handler = Callable[[argparse.Namespace], int]


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--traceback", action="store_true", help="print full tracebacks of errors and failed assets"
    )
    return common


def add_location_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``-m MODULE | -f FILE`` and ``-a NAME``: where the Definitions are."""
    group = parser.add_argument_group("code location" + ("" if required else " (optional)"))
    where = group.add_mutually_exclusive_group(required=required)
    where.add_argument(
        "-m", "--module", metavar="MODULE", help="import MODULE (the cwd is on sys.path)"
    )
    where.add_argument("-f", "--file", metavar="FILE", help="load the Python file FILE")
    group.add_argument(
        "-a", "--attribute", metavar="NAME",
        help="the module-level variable holding the Definitions (needed if there are several)",
    )  # fmt: skip


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options of a run; ``wharf.cli.materialize.run_kwargs`` maps them to keywords.

    Later run options (``--executor NAME``) are added here.
    """
    group = parser.add_argument_group("run options")
    group.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error", "critical"], default="info",
        help="show the wharf log and the assets' log lines (context.log, get_dagster_logger, "
        "logging) from this level up (info)",
    )  # fmt: skip
    group.add_argument(
        "--select", action="extend", nargs="+", metavar="KEY",
        help="materialize only these assets: keys (a/b for multi-part keys; repeat or "
        "comma-separate) or Dagster's selection syntax ('*raw', 'raw+2', 'group:marts and "
        "tag:tier=gold')",
    )  # fmt: skip
    group.add_argument(
        "-c", "--config", action="append", metavar="FILE",
        help="run config from a YAML file (ops: / resources:); repeat to merge several",
    )  # fmt: skip
    group.add_argument(
        "--job", metavar="NAME", help="run the job NAME (its selection, config, tags, executor)"
    )
    group.add_argument(
        "--executor", choices=["in_process", "multiprocess", "dask"], default=None,
        help="how assets run: in this process (default), one process each, or on Dask",
    )  # fmt: skip
    group.add_argument(
        "--max-concurrent", type=int, metavar="N", help="most assets running at once"
    )
    group.add_argument(
        "--dask-address", metavar="tcp://HOST:PORT",
        help="the Dask scheduler to use (default: start a local cluster)",
    )  # fmt: skip
    which = group.add_mutually_exclusive_group()
    which.add_argument(
        "--partition", metavar="KEY",
        help="the partition the selected partitioned assets materialize (a|b for multi-partitions)",
    )  # fmt: skip
    which.add_argument(
        "--partitions", metavar="A...B|A,B,C",
        help="backfill: one run per partition, in order: a range A...B (both included) or a list",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The ``wharf`` parser; each subcommand names its handler as ``module:function``."""
    from wharf import __version__

    parser = argparse.ArgumentParser(
        prog="wharf", description="Materialize and inspect wharf assets."
    )
    parser.add_argument("--version", action="version", version=f"wharf {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options()

    mat = commands.add_parser(
        "materialize", parents=[common],
        help="run the assets of a code location", description="Run assets with live progress.",
    )  # fmt: skip
    add_location_options(mat, required=True)
    add_run_options(mat)
    mat.add_argument(
        "--stale-only", action="store_true",
        help="run only assets whose code version or input data versions changed (or that were "
        "never stored, or failed); the others are reported as unchanged",
    )  # fmt: skip
    mat.set_defaults(handler="wharf.cli.materialize:run")

    lst = commands.add_parser(
        "list", parents=[common],
        help="list assets with their last materialization",
        description="List the assets of a code location with their last materialization.",
    )  # fmt: skip
    add_location_options(lst, required=True)
    lst.set_defaults(handler="wharf.cli.listing:run")

    show = commands.add_parser(
        "show", parents=[common],
        help="show an asset's last materialization from the run history",
        description="Show an asset's last materialization (or recent runs) from the run history.",
    )  # fmt: skip
    add_location_options(show, required=False)
    show.add_argument("key", metavar="KEY", help="the asset key (a/b for multi-part keys)")
    show.add_argument("--history", action="store_true", help="list the asset's recent runs")
    show.add_argument(
        "--versions", action="store_true",
        help="list the earlier versions the asset's store keeps (Delta Lake, Iceberg; needs -f/-m)",
    )  # fmt: skip
    for flag, low, default, what in (
        ("--limit", 1, 20, "how many runs --history lists (20)"),
        ("--rows", 0, 10, "how many first rows of the stored value to show (10; 0: none)"),
    ):
        show.add_argument(flag, type=_at_least(low), default=default, metavar="N", help=what)
    show.add_argument(
        "--logs", action="store_true", help="print the log lines of the asset's last run"
    )
    show.set_defaults(handler="wharf.cli.show:run")

    logs = commands.add_parser(
        "logs", parents=[common],
        help="print the log lines of a run", description="Print the log lines of a run.",
    )  # fmt: skip
    logs.add_argument("run_id", metavar="RUN_ID", help="the run id (or its first characters)")
    logs.add_argument("--asset", metavar="KEY", help="only this asset's lines")
    logs.set_defaults(handler="wharf.cli.logs:run")

    dev = commands.add_parser(
        "dev", parents=[common],
        help="start the web UI and the schedule/sensor daemon",
        description="Serve the local web UI (assets, runs, stored data) and run schedules and "
        "sensors. Needs the wharf[ui] extra.",
    )  # fmt: skip
    add_location_options(dev, required=True)
    dev.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    dev.add_argument("--port", type=int, default=3000, help="port to listen on (3000)")
    dev.add_argument(
        "--token", default=None,
        help="a token every request must carry (also $WHARF_UI_TOKEN); required off loopback",
    )  # fmt: skip
    dev.add_argument("--no-daemon", action="store_true", help="serve without running schedules")
    dev.set_defaults(handler="wharf.cli.dev:run")

    sched = commands.add_parser(
        "schedules", parents=[common],
        help="list, start or stop schedules and sensors",
        description="Show schedules and sensors with their status and ticks, or start/stop one "
        "(the daemon of `wharf dev` runs the started ones).",
    )  # fmt: skip
    sched.add_argument("action", choices=["list", "start", "stop"], help="what to do")
    sched.add_argument("name", nargs="?", metavar="NAME", help="the schedule or sensor")
    add_location_options(sched, required=True)
    sched.set_defaults(handler="wharf.cli.schedules:run")
    return parser


def _at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer ``>= low``."""

    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            msg = f"expected a number >= {low}, got {text}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def _handler(spec: str) -> Handler:
    module, _, name = spec.partition(":")
    func: Handler = getattr(importlib.import_module(module), name)
    return func


def _exit_code(exc: Exception) -> int:
    """2 for definition, selection and configuration errors; 1 for other failures."""
    from wharf.errors import ConfigError, DefinitionError, MissingDependencyError, UnknownAssetError

    bad_input = (DefinitionError, UnknownAssetError, ConfigError, MissingDependencyError)
    return 2 if isinstance(exc, bad_input) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wharf`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Usage errors from argparse exit (code 2) through ``SystemExit``.
    """
    from wharf.errors import WharfError

    args = build_parser().parse_args(argv)
    try:
        return _handler(args.handler)(args)
    except CliError as exc:
        error(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except Exception as exc:
        if args.traceback:
            traceback.print_exception(exc, file=sys.stderr)
        elif isinstance(exc, WharfError):
            error(exc.message)
        else:
            error(describe_error(exc))
        if not args.traceback:
            for note in getattr(exc, "__notes__", ()):
                print(f"  {note}", file=sys.stderr)
        return _exit_code(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
