"""A local web server for one person on this machine: loopback only, a token per start.

What spasm-cv serves (``review --serve``) is health data, so every app goes through
:func:`guarded` and :func:`serve`:

- it listens on the loopback interface only (``127.0.0.1``; other machines cannot reach it);
- every request carries the token made at start (:func:`new_token`), in the URL the app
  opens (``?token=``) or, for requests the page's script makes, in the ``X-Token`` header;
  without it: 403 (another local user or a web page guessing the port gets nothing);
- the ``Host`` header must name the loopback (``127.0.0.1``, ``localhost``, ``[::1]``): a
  page of another site whose DNS name was re-pointed at 127.0.0.1 (DNS rebinding) is refused;
- a request that changes anything is a POST with the token in ``X-Token`` and, if the
  browser says where it comes from (``Origin``), from this server (CSRF);
- every response carries a strict Content-Security-Policy (nothing from elsewhere, no inline
  script), ``X-Content-Type-Options: nosniff``, no referrer, no caching, and no framing.

Starlette (routing, requests, file responses with byte ranges for video) and uvicorn (the
HTTP server) do the HTTP; this module only adds the rules above.
"""

from __future__ import annotations

import hmac
import secrets
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from spasm_cv._html import csp

HOST = "127.0.0.1"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")
SAFE_METHODS = ("GET", "HEAD")
TOKEN_HEADER = "x-token"
# the policy of every response: scripts, styles, media and requests only from this server
POLICY = str(csp(
    "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "media-src 'self'",
    "connect-src 'self'", "frame-ancestors 'none'",
)).replace("form-action 'none'", "form-action 'self'")  # fmt: skip
HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "same-origin",
}


def new_token() -> str:
    """A random token for one start of a server (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Guard:
    """ASGI middleware enforcing the module's rules on every HTTP request."""

    def __init__(self, app: ASGIApp, token: str):
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self.refusal(request)
        if refusal is not None:
            await _with_headers(PlainTextResponse(refusal[1], status_code=refusal[0]))(
                scope, receive, send
            )
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode("latin-1").lower() not in HEADERS]  # fmt: skip
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def refusal(self, request: Request) -> tuple[int, str] | None:
        """``(status, text)`` if the request breaks a rule, else None."""
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        if name.lower() not in LOOPBACK_NAMES:
            return 400, "this server answers only to 127.0.0.1 or localhost"
        given = request.headers.get(TOKEN_HEADER) or request.query_params.get("token") or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return 403, "forbidden: open the address spasm-cv printed (it holds a token)"
        if request.method not in SAFE_METHODS:
            if not hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(),
                                       self.token.encode()):  # fmt: skip
                return 403, "forbidden: a change must come from the page (token header)"
            origin = request.headers.get("origin")
            if origin is not None and origin.split("://", 1)[-1].lower() != host.lower():
                return 403, "forbidden: a change from another site"
        return None


def _with_headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


def guarded(routes: Sequence[BaseRoute], token: str) -> Starlette:
    """A Starlette app of ``routes`` behind :class:`Guard` (token, Host, CSRF, headers)."""
    return Starlette(routes=list(routes), middleware=[Middleware(Guard, token=token)])


@dataclass
class Running:
    """A server started by :func:`start`: its address (with the token) and how to stop it."""

    url: str
    stop: Callable[[], None]
    thread: threading.Thread


def start(app: Starlette, port: int | None = None, path: str = "/", token: str = "") -> Running:
    """Serve ``app`` on the loopback interface in a background thread; returns once it
    listens. ``port``: a free one by default. The URL holds ``path`` and ``token``."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", access_log=False,
                            lifespan="off", server_header=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="spasm-cv server", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.02)
    if not server.started:
        raise OSError(f"could not listen on {HOST}:{port} (in use?)")

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    return Running(f"http://{HOST}:{port}{path}?token={token}", stop, thread)


def serve(app: Starlette, token: str, *, port: int | None = None, path: str = "/",
          open_browser: bool = True, what: str = "page") -> None:  # fmt: skip
    """Serve ``app`` until Ctrl+C, opening the browser at it.

    The token is a key to the page: it is printed only when no browser is opened
    (``open_browser`` False), for the user to open the address by hand.
    """
    running = start(app, port, path, token)
    opened = open_browser and webbrowser.open(running.url)
    shown = running.url.split("?")[0] + " (opened in your browser)" if opened else running.url
    print(f"{what}: {shown}\nOnly this computer can open it; Ctrl+C stops.",
          file=sys.stderr, flush=True)  # fmt: skip
    try:
        while running.thread.is_alive():
            running.thread.join(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
