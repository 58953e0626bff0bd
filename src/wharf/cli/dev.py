"""``wharf dev``: serve the web UI and run the schedule/sensor daemon (the ``wharf[ui]`` extra)."""

from __future__ import annotations

import argparse

from wharf._deps import require


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    for module in ("starlette", "uvicorn"):
        require(module, purpose="wharf dev")
    from wharf.ui.server import serve
    from wharf.ui.workspace import Location

    location = Location(args.module, args.file, args.attribute)
    return serve(
        location, host=args.host, port=args.port, token=args.token, daemon=not args.no_daemon
    )
