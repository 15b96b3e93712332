"""The HTTP service (`wirearchive serve`): the JSON API, its OpenAPI description, web pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from archive import api, web
from archive.service import Service, ServiceConfig

MAX_BODY_BYTES = 2 * 1024 * 1024
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
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
    app.middleware("http")(_guarded)
    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app


async def _guarded(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Bound request bodies; send the security headers on every response."""
    length = request.headers.get("content-length")
    if length is None and "transfer-encoding" in request.headers:
        response: Response = JSONResponse({"detail": "Content-Length required"}, 411)
    elif length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        response = JSONResponse({"detail": f"body over {MAX_BODY_BYTES} bytes"}, 413)
    else:
        response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _version() -> str:
    try:
        return version("wirearchive")
    except PackageNotFoundError:
        return "0"
