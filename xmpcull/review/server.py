"""The local review server: Starlette on uvicorn, bound to 127.0.0.1 only.

Safety rules, each enforced in one place here:
* every request carries the session's random token (the first URL's ``?token=``,
  then an HttpOnly, SameSite=Strict cookie); decisions are POST only and must also
  send it in the ``X-Xmpcull-Token`` header, which another site cannot set;
* the Host header must name the loopback address and our port (DNS rebinding),
  and an Origin, when sent, must be ours;
* files are never addressed by path: a preview is asked for by item number, and the
  file is served only when, with symlinks resolved, it lies inside a root. Static
  files come from the package folder through Starlette's StaticFiles.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from xmpcull.errors import XmpcullError
from xmpcull.review.decisions import Decider, DecisionError
from xmpcull.review.model import VIEWS, ReviewModel, inside_roots
from xmpcull.review.pages import LiveUrls, PageRequest, Renderer
from xmpcull.review.previews import SIZES, PreviewMaker
from xmpcull.sidecar import WriteOptions

STATIC_DIR = Path(__file__).with_name("static")
COOKIE = "xmpcull_review"
TOKEN_HEADER = "x-xmpcull-token"
LOOPBACK = "127.0.0.1"
MAX_BODY = 4096  # a decision is a few dozen bytes


@dataclass
class ReviewSession:
    model: ReviewModel
    previews: PreviewMaker
    decider: Decider
    token: str
    port: int = 0

    @classmethod
    def create(cls, model: ReviewModel, cache_dir: Path, options: WriteOptions, workers: int | None = None) -> ReviewSession:
        return cls(model, PreviewMaker(cache_dir, workers), Decider(model, options), secrets.token_urlsafe(24))

    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/?token={self.token}"


class Guard:
    """ASGI middleware: loopback Host, our Origin, and the session token, on every request."""

    def __init__(self, app: ASGIApp, session: ReviewSession) -> None:
        self.app = app
        self.session = session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        problem = self._problem(request)
        if problem is not None:
            await PlainTextResponse(problem, status_code=403)(scope, receive, send)
            return
        if request.query_params.get("token"):
            # The URL printed at start: swap the token into a cookie and drop it from the address bar.
            response = RedirectResponse(str(request.url.remove_query_params("token")), status_code=303)
            response.set_cookie(COOKIE, self.session.token, httponly=True, samesite="strict", path="/")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _problem(self, request: Request) -> str | None:
        port = self.session.port
        allowed_hosts = {f"{LOOPBACK}:{port}", f"localhost:{port}"}
        if request.headers.get("host", "") not in allowed_hosts:
            return "refused: this server answers only to its loopback address"
        origin = request.headers.get("origin")
        if origin is not None and origin not in {f"http://{h}" for h in allowed_hosts}:
            return "refused: request from another origin"
        offered = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if not _same(offered, self.session.token):
            return "refused: missing or wrong session token (open the URL xmpcull review printed)"
        if request.method not in ("GET", "HEAD") and not _same(request.headers.get(TOKEN_HEADER, ""), self.session.token):
            return "refused: a decision must carry the session token header"
        return None


def _same(offered: str, token: str) -> bool:
    return hmac.compare_digest(offered.encode(), token.encode())


def build_app(session: ReviewSession) -> ASGIApp:
    renderer = Renderer(session.model, LiveUrls(), read_only=False, token=session.token,
                        orientation=session.previews.orientation)

    async def page(request: Request) -> Response:
        view = request.path_params.get("view", "queue")
        if view not in VIEWS:
            return PlainTextResponse("no such view", status_code=404)
        page_request = PageRequest.parse(view, request.query_params)
        html = await asyncio.to_thread(renderer.render_page, page_request)
        return HTMLResponse(html, headers=_no_store())

    async def root(request: Request) -> Response:
        return RedirectResponse("/queue", status_code=303)

    async def preview(request: Request) -> Response:
        size = request.path_params["size"]
        try:
            item = session.model.item(int(request.path_params["item"]))
        except (KeyError, ValueError):
            return PlainTextResponse("no such image", status_code=404)
        if size not in SIZES:
            return PlainTextResponse("no such size", status_code=404)
        if not inside_roots(item.path, session.model.roots):
            return PlainTextResponse("refused: the file is not inside the review's roots", status_code=403)
        try:
            data = await asyncio.wrap_future(session.previews.submit(item.path, size))
        except (XmpcullError, OSError) as exc:
            reason = exc.reason if isinstance(exc, XmpcullError) else (exc.strerror or str(exc))
            return PlainTextResponse(f"no preview: {reason}", status_code=422)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    async def decide(request: Request) -> Response:
        payload = await _json_body(request)
        if isinstance(payload, Response):
            return payload
        try:
            item_id = int(payload.get("item"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return JSONResponse({"error": "no image given"}, status_code=400)
        return await _decision(lambda: session.decider.decide(item_id, str(payload.get("action")), payload.get("value")),
                               payload)

    async def undo(request: Request) -> Response:
        payload = await _json_body(request)
        if isinstance(payload, Response):
            return payload
        return await _decision(session.decider.undo, payload)

    async def _decision(call: Callable[[], Any], payload: dict[str, Any]) -> Response:
        try:
            item = await asyncio.to_thread(call)
        except DecisionError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        if item is None:
            return JSONResponse({"cards": [], "message": "nothing to undo"})
        view = str(payload.get("view") or "queue")
        html = renderer.render_card(item, view if view in VIEWS else "queue")
        return JSONResponse({"cards": [{"id": item.id, "html": html}]})

    routes = [
        Route("/", root),
        Route("/preview/{item}/{size}", preview),
        Route("/api/decide", decide, methods=["POST"]),
        Route("/api/undo", undo, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR, follow_symlink=False), name="static"),
        Route("/{view}", page),
    ]
    return Guard(Starlette(routes=routes), session)


async def _json_body(request: Request) -> dict[str, Any] | Response:
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "request too large"}, status_code=413)
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return JSONResponse({"error": "not JSON"}, status_code=400)
    if not isinstance(payload, dict):
        return JSONResponse({"error": "not a JSON object"}, status_code=400)
    return payload


def _no_store() -> dict[str, str]:
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class ReviewServer:
    """uvicorn on a socket we bound ourselves (so the port is known before the first request)."""

    def __init__(self, session: ReviewSession, port: int = 0) -> None:
        self.session = session
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((LOOPBACK, port))
        except OSError as exc:
            self.socket.close()
            raise XmpcullError(f"cannot listen on {LOOPBACK}:{port} ({exc.strerror})") from exc
        session.port = self.socket.getsockname()[1]
        config = uvicorn.Config(build_app(session), log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.session.url()

    def serve(self) -> None:
        """Serve until Ctrl-C (uvicorn handles the signal)."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.close()

    def start_in_thread(self) -> None:
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self._thread.start()
        while not self.server.started:
            if not self._thread.is_alive():
                raise XmpcullError("the review server did not start")
            threading.Event().wait(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.close()

    def close(self) -> None:
        self.session.previews.close()
        self.socket.close()

