"""``wharf dev``: the web server and the schedule/sensor daemon in one process."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from wharf.cli.common import CliError, line
from wharf.ui.workspace import Location, Workspace

TOKEN_ENV = "WHARF_UI_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address.

    Examples:
        >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """A non-loopback address needs a token.

    Raises:
        CliError: ``host`` is not loopback and there is no token.
    """
    if not is_loopback(host) and not token:
        msg = (
            f"binding to {host} makes the UI reachable from other machines: expected a token "
            f"(--token TOKEN or ${TOKEN_ENV}) that every request must carry"
        )
        raise CliError(msg)


def serve(
    location: Location,
    *,
    host: str = "127.0.0.1",
    port: int = 3000,
    token: str | None = None,
    home: Path | None = None,
    daemon: bool = True,
) -> int:
    """Load the definitions, start the daemon and serve until interrupted; return 0."""
    import uvicorn

    from wharf.ui.app import LOOPBACK_HOSTS, UIState, create_app
    from wharf.ui.daemon import Daemon
    from wharf.ui.launcher import EventBus, HistoryFollower, Launcher

    token = token or os.environ.get(TOKEN_ENV) or None
    check_binding(host, token)
    workspace = Workspace(location, home)
    workspace.defs()  # a location that does not load is an error now, not on the first page
    bus = EventBus()
    launcher = Launcher(workspace, bus)
    ticker = Daemon(workspace, launcher, bus) if daemon else None
    state = UIState(workspace, bus, launcher, ticker)
    allowed = LOOPBACK_HOSTS if is_loopback(host) else None
    app = create_app(state, token=token, allowed_hosts=allowed)
    follower = HistoryFollower(workspace, bus)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2,
        lifespan="off", access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    where = location.file or location.module
    line(f"wharf dev: {where} at http://{shown}:{port}/", "bold")
    if token:
        line("every request must carry the token (?token=..., or Authorization: Bearer ...)")
    follower.start()
    if ticker is not None:
        ticker.start()
    try:
        server.run()
    finally:
        state.stopping.set()
        follower.stop()
        if ticker is not None:
            ticker.stop()
        launcher.stop_all()
    return 0
