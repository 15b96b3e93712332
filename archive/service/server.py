"""The HTTP service (`wirearchive serve`): the JSON API, its OpenAPI description, web pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archive.service import api, web
from archive.service.service import Service, ServiceConfig

MAX_BODY_BYTES = 2 * 1024 * 1024
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: under it browsers send `Origin: null` with this site's own form posts.
    "Referrer-Policy": "same-origin",
}


def create_app(config: ServiceConfig) -> FastAPI:
    """The ASGI app over the archive in `config`; its job worker runs while the app does."""
    service = Service(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.jobs.start()
        try:
            yield
        finally:
            service.jobs.stop()  # ends a running `wirearchive add`

    app = FastAPI(
        title="wirearchive",
        version=_version(),
        description="Archive blog and wire posts on demand, and read the archive.",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: not under this CSP
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(Guarded)
    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app


class Guarded:
    """ASGI middleware: bounds request bodies by the bytes actually received (a declared
    Content-Length cannot hide a longer chunked body) with 413 as soon as the limit is
    passed, and sends the security headers on every response."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        refused = False

        async def send_guarded(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out: whatever the app answers instead is dropped
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        async def refuse() -> None:
            nonlocal refused
            if not started:
                response = JSONResponse(
                    {"detail": f"body over {self.max_body} bytes"},
                    413,
                    headers={"Connection": "close"},  # uvicorn then reads no more of it
                )
                await response(scope, receive, send_guarded)
            refused = True

        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await refuse()
            return
        received = 0

        async def receive_counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    await refuse()
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, receive_counted, send_guarded)
        except BodyTooLarge:
            return  # answered with 413 already


class BodyTooLarge(Exception):
    """A request body passed the limit (raised to the app that reads it)."""


def serve(config: ServiceConfig, host: str, port: int) -> None:
    """Run the service with uvicorn until SIGINT or SIGTERM. X-Forwarded-For and
    X-Forwarded-Proto are believed only from the configured proxies (uvicorn's default
    believes them from 127.0.0.1, so any local client could pick its address)."""
    import socket

    import uvicorn

    # Bound here, so a taken port is one clear line (uvicorn would log it and exit 3).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(
            f"cannot serve on {host}:{port}: {exc.strerror or exc} (another `wirearchive "
            "serve`? give another --port)"
        ) from None
    trusted = config.trusted_proxies
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=host,
            port=port,
            proxy_headers=trusted is not None,
            forwarded_allow_ips=trusted,
        )
    )
    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("uvicorn.error").info(
        "wirearchive serving on http://%s:%d (Ctrl-C stops)", shown, port
    )
    server.run(sockets=[sock])


class ServeError(Exception):
    """The service cannot start (its address is taken or not ours)."""


def _version() -> str:
    try:
        return version("wirearchive")
    except PackageNotFoundError:
        return "0"
