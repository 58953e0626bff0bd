"""The ``wharf`` command line: ``wharf materialize``, ``wharf list`` and ``wharf show``.

Only :mod:`argparse` loads for ``wharf --help``; each command imports what it needs (rich,
the run machinery, the user's definitions) when it runs.
"""

from __future__ import annotations

from wharf.cli.main import main

__all__ = ["main"]
