"""The Starlette app of ``wharf dev``: the JSON API, live events, and the static page.

Safe by default: every response passes through the workspace's secret mask; a token, when
set, must come with every request (``Authorization: Bearer``, ``X-Wharf-Token``, ``?token=``,
or the cookie that opening the page with ``?token=`` sets for its scripts and events); the
page's Content-Security-Policy lets it load nothing from another origin.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from wharf._core.ticks import TickStore
from wharf.errors import WharfError
from wharf.ui import views

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.types import ASGIApp, Receive, Scope, Send

    from wharf.ui.daemon import Daemon
    from wharf.ui.launcher import EventBus, Launcher
    from wharf.ui.workspace import Workspace

STATIC = Path(__file__).with_name("static")
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
COOKIE = "wharf_token"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


class TokenMiddleware:
    """Refuse (401) every request that does not carry the token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        from_query = request.query_params.get("token") or ""
        given = (
            request.headers.get("x-wharf-token") or from_query or request.cookies.get(COOKIE, "")
        )
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not hmac.compare_digest(given.encode(), self.token):
            body = {"error": "a token is required: pass ?token=... or Authorization: Bearer ..."}
            await JSONResponse(body, status_code=401)(scope, receive, send)
            return
        if not from_query:
            await self.app(scope, receive, send)
            return

        # the page was opened with ?token=: its scripts, styles and events then carry a cookie
        async def with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={from_query}; Path=/; HttpOnly; SameSite=Strict"
                headers = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_cookie)


class UIState:
    """What the routes share: the workspace, the bus, the launcher, the daemon."""

    def __init__(
        self, workspace: Workspace, bus: EventBus, launcher: Launcher, daemon: Daemon | None
    ) -> None:
        self.workspace, self.bus, self.launcher, self.daemon = workspace, bus, launcher, daemon
        self.stopping = threading.Event()


class _Routes:
    """The endpoints; each takes the request and answers JSON (masked), the page or events."""

    def __init__(self, state: UIState) -> None:
        self.state, self.ws = state, state.workspace

    def reply(self, data: Any, status: int = 200) -> Response:
        text = self.ws.redact(json.dumps(data, default=str, allow_nan=False))
        return Response(text, status_code=status, media_type="application/json")

    def problem(self, exc: Exception, status: int) -> Response:
        message = exc.message if isinstance(exc, WharfError) else f"{type(exc).__name__}: {exc}"
        return self.reply({"error": message}, status)

    def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    def info(self, request: Request) -> Response:
        loc = self.ws.location
        return self.reply(
            {
                "location": loc.file or loc.module,
                "jobs": sorted(j.name for j in getattr(self.ws.defs(), "jobs", [])),
                "load_error": self.ws.load_error,
                "generation": self.ws.generation,
                "events": self.state.bus.last,
            }
        )

    def graph(self, request: Request) -> Response:
        defs = self.ws.defs()
        with self.ws.history() as history:
            return self.reply(views.graph(defs, history))

    def select(self, request: Request) -> Response:
        """The keys a selection in Dagster's syntax names (``?q=group:"marts"+``)."""
        from wharf._core.selection import AssetSelection

        text = request.query_params.get("q", "")
        defs = self.ws.defs()
        try:
            keys = AssetSelection.from_string(text).resolve(defs.asset_graph)
        except (WharfError, KeyError, ValueError) as exc:
            return self.problem(exc, 400)
        return self.reply({"keys": sorted(k.to_user_string() for k in keys)})

    def asset(self, request: Request) -> Response:
        key = request.path_params["key"]
        limit = _int(request, "limit", 1000)
        try:
            defs = self.ws.defs()
            with self.ws.history() as history:
                return self.reply(views.asset(defs, history, key, limit))
        except KeyError as exc:
            return self.problem(exc, 404)

    def preview(self, request: Request) -> Response:
        from wharf.ui.preview import preview as load_preview

        key = request.path_params["key"]
        raw = request.query_params.get("columns") or ""
        columns = [c for c in raw.split(",") if c] or None
        try:
            data = load_preview(
                self.ws.defs(),
                key,
                limit=_int(request, "limit", 50),
                columns=columns,
                partition_key=request.query_params.get("partition") or None,
            )
        except KeyError as exc:
            return self.problem(exc, 404)
        except Exception as exc:
            return self.problem(exc, 422)
        return self.reply(data)

    def runs(self, request: Request) -> Response:
        with self.ws.history() as history:
            found = views.runs(history, _int(request, "limit", 100))
        return self.reply(
            {"runs": found, "launches": [x.as_json() for x in self.state.launcher.running()]}
        )

    def run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        with self.ws.history() as history:
            found = views.run(history, run_id)
        launch = next(
            (x for x in self.state.launcher.launches.values() if run_id in x.as_json()["run_ids"]),
            None,
        )
        if found is None and launch is None:
            return self.reply({"error": f"no run {run_id!r} in the run history"}, 404)
        found = found or {"run_id": run_id, "status": "queued", "steps": [], "logs": []}
        if launch is not None and launch.state == "running":
            found["status"] = "running"
            found["live_steps"] = launch.steps
        if launch is not None and launch.error:
            found["launch_error"] = launch.error
        return self.reply(found)

    async def launch(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return self.reply({"error": "expected a JSON body"}, 400)
        if not isinstance(body, dict):
            return self.reply({"error": "expected a JSON object"}, 400)
        try:
            run_config = _run_config(body.get("run_config"))
            selection = body.get("selection") or None
            if isinstance(selection, str):
                selection = [s.strip() for s in selection.split(",") if s.strip()]
            planned = await asyncio.to_thread(
                self.state.launcher.plan,
                selection,
                body.get("partition") or None,
                body.get("partitions") or None,
                body.get("job") or None,
            )
        except (WharfError, KeyError, ValueError, TypeError) as exc:
            return self.problem(exc, 400)
        started = self.state.launcher.launch(planned, run_config=run_config)
        return self.reply(started.as_json(), 201)

    def launches(self, request: Request) -> Response:
        return self.reply(
            {"launches": [x.as_json() for x in self.state.launcher.launches.values()]}
        )

    def ticks(self) -> TickStore:
        return TickStore(self.ws.home / "history.sqlite")

    def schedules(self, request: Request) -> Response:
        from wharf.ui import daemon as daemon_mod

        defs = self.ws.defs()
        with self.ticks() as store:
            return self.reply({"instigators": daemon_mod.describe(defs, store)})

    def switch(self, request: Request) -> Response:
        from wharf.ui import daemon as daemon_mod

        name, action = request.path_params["name"], request.path_params["action"]
        if action not in ("start", "stop"):
            return self.reply({"error": f"expected start or stop, got {action!r}"}, 404)
        try:
            with self.ticks() as store:
                daemon_mod.set_status(self.ws.defs(), store, name, action == "start")
        except KeyError as exc:
            return self.problem(exc, 404)
        return self.reply({"name": name, "status": "running" if action == "start" else "stopped"})

    async def events(self, request: Request) -> Response:
        start = _int(request, "after", self.state.bus.last)

        async def stream() -> AsyncIterator[str]:
            seen, idle = start, 0.0
            yield "retry: 1000\n\n"
            while not self.state.stopping.is_set():
                seen, found = self.state.bus.after(seen)
                for event in found:
                    data = self.ws.redact(json.dumps(event, default=str))
                    yield f"id: {event['seq']}\ndata: {data}\n\n"
                if found:
                    idle = 0.0
                elif idle >= 10:
                    yield ": ping\n\n"
                    idle = 0.0
                await asyncio.sleep(0.2)
                idle += 0.2
                if await request.is_disconnected():
                    return

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def create_app(
    state: UIState, *, token: str | None = None, allowed_hosts: list[str] | None = None
) -> Starlette:
    """The ASGI app over ``state``; ``token`` guards every route, ``allowed_hosts`` the Host
    header (a loopback server accepts only loopback names: no DNS rebinding)."""
    r = _Routes(state)
    routes = [
        Route("/", r.index),
        Route("/api/info", r.info),
        Route("/api/graph", r.graph),
        Route("/api/select", r.select),
        Route("/api/assets/{key:path}/preview", r.preview),
        Route("/api/assets/{key:path}", r.asset),
        Route("/api/runs", r.runs),
        Route("/api/runs/{run_id}", r.run),
        Route("/api/launch", r.launch, methods=["POST"]),
        Route("/api/launches", r.launches),
        Route("/api/schedules", r.schedules),
        Route("/api/schedules/{name}/{action:str}", r.switch, methods=["POST"]),
        Route("/api/events", r.events),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = []
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    if token:
        middleware.append(Middleware(TokenMiddleware, token=token))
    app = Starlette(routes=routes, middleware=middleware)
    return _SecurityHeaders(app)  # type: ignore[return-value]


class _SecurityHeaders:
    """Adds the CSP and friends to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


def _run_config(value: Any) -> Any:
    """Run config from the page's editor: YAML text, or already a JSON object."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        msg = f"run config must be YAML text or an object, got {type(value).__name__}"
        raise TypeError(msg)
    import yaml

    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        msg = f"run config is not valid YAML: {exc}"
        raise ValueError(msg) from None
    if parsed is not None and not isinstance(parsed, dict):
        msg = f"run config must be a mapping (ops:, resources:), got {type(parsed).__name__}"
        raise ValueError(msg)
    return parsed
