"""The JSON API under /api: archive jobs, articles, search and stats."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from archive.service.apimodels import (
    ArchiveOne,
    ArchiveRequest,
    Article,
    ArticlePage,
    Error,
    IsoDate,
    JobOut,
    Stats,
)
from archive.service.jobs import QueueFull
from archive.service.service import Service

QUEUE_RETRY_AFTER = 30  # seconds a client waits when the queue is full
MAX_OFFSET = 1_000_000
MAX_QUERY = 500
MAX_NAME = 200

router = APIRouter(prefix="/api")
bearer = HTTPBearer(
    auto_error=False, description="WIREARCHIVE_API_TOKEN, when the server has one set"
)


def _retry_after(description: str) -> dict[str, Any]:
    return {
        "model": Error,
        "description": description,
        "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
    }


SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "The body cannot be decoded (not UTF-8 JSON)."},
    401: {"model": Error, "description": "The server has a token, and it was not given."},
    413: {"model": Error, "description": "The body is over 2 MiB (counted as received)."},
    415: {"model": Error, "description": "The body is not sent as application/json."},
    429: _retry_after("Too many submissions from this client in the last minute."),
    503: _retry_after("The job queue is full."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Error, "description": "Unknown id."}}


def get_service(request: Request) -> Service:
    """The app's Service."""
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def client_of(request: Request) -> str:
    """The remote address the rate limit counts by (a proxy's X-Forwarded-For only when
    WIREARCHIVE_TRUSTED_PROXIES names the proxy)."""
    return request.client.host if request.client else "unknown"


def admitted(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """429 when this client submitted too often in the last minute (submissions without
    the token on a budget of their own), else 401 unless the request carries the server's
    token (when it has one)."""
    authorized = service.authorized(credentials.credentials if credentials else None)
    wait = service.throttle(client_of(request), authorized)
    if wait:
        raise HTTPException(
            429,
            f"too many submissions: at most {service.config.rate} a minute",
            headers={"Retry-After": str(wait)},
        )
    if not authorized:
        raise HTTPException(
            401,
            "a valid API token is required: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )


def json_body(request: Request) -> None:
    """415 unless the body is declared JSON (Content-Type application/json, or +json): a
    form post or a body without a type would otherwise be read as a missing field."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise HTTPException(
            415,
            f"send the body as JSON (Content-Type: application/json), not {kind or 'untyped'}",
        )


async def refusals(service: Service, urls: list[str]) -> list[tuple[int, str, str]]:
    """(index, url, reason) of each URL the address guard refuses."""
    reasons = await asyncio.gather(*(service.refusal(url) for url in urls))
    return [(i, url, why) for i, (url, why) in enumerate(zip(urls, reasons, strict=True)) if why]


def queue_job(service: Service, urls: list[str]) -> dict[str, Any]:
    """Queue a job; 503 with Retry-After when the queue is full."""
    try:
        return service.jobs.submit(urls)
    except QueueFull as exc:
        raise HTTPException(
            503, f"the queue is full: {exc}", headers={"Retry-After": str(QUEUE_RETRY_AFTER)}
        ) from None


@router.post(
    "/archive",
    status_code=202,
    response_model=JobOut,
    responses=SUBMIT_ERRORS,
    dependencies=[Depends(admitted), Depends(json_body)],
    summary="Archive URLs",
)
async def archive(body: ArchiveRequest, response: Response, service: ServiceDep) -> Any:
    """Queue a job that archives the URLs as `wirearchive add` does. Each URL must pass
    the address guard first (http/https, a public host): else 422, naming the reason."""
    single = isinstance(body, ArchiveOne)
    urls = [body.url] if single else body.urls  # type: ignore[union-attr]
    refused = await refusals(service, urls)
    if refused:
        raise RequestValidationError(
            [
                {
                    "type": "url_refused",
                    "loc": ("body", "url") if single else ("body", "urls", i),
                    "msg": f"refused: {why}",
                    "input": url,
                }
                for i, url, why in refused
            ]
        )
    job = queue_job(service, urls)
    response.headers["Location"] = f"/api/jobs/{job['id']}"
    return job


@router.get("/jobs/{job_id}", response_model=JobOut, responses=NOT_FOUND, summary="A job")
def job(job_id: str, service: ServiceDep) -> Any:
    """A job's status and, once done, the result line of each URL."""
    found = service.jobs.get(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return found


def list_articles(
    service: Service,
    q: str | None,
    limit: int,
    offset: int,
    **filters: Any,
) -> dict[str, Any]:
    """A page of articles: search results by rank when `q` has words, else newest first."""
    with service.catalog() as catalog:
        if q and q.strip():
            rows = catalog.search(q, limit=limit + 1, offset=offset, **filters)
        else:
            rows = catalog.latest(limit=limit + 1, offset=offset, **filters)
    more = len(rows) > limit
    return {
        "items": rows[:limit],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


@router.get("/articles", response_model=ArticlePage, summary="List or search articles")
def articles(
    service: ServiceDep,
    q: Annotated[str | None, Query(max_length=MAX_QUERY, description="full-text query")] = None,
    since: Annotated[IsoDate | None, Query(description="published on or after")] = None,
    until: Annotated[IsoDate | None, Query(description="published on or before")] = None,
    source: Annotated[str | None, Query(max_length=MAX_NAME)] = None,
    cluster: Annotated[str | None, Query(max_length=MAX_NAME, description="story id")] = None,
    wire: Annotated[str | None, Query(max_length=MAX_NAME, description="wire service")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Any:
    """Articles, newest first; with `q`, full-text search results, best match first, each
    with a snippet (matches in [brackets]). Articles whose objects are not in the store yet
    are left out."""
    return list_articles(
        service,
        q,
        limit,
        offset,
        since=_iso(since),
        until=_iso(until),
        source=source,
        cluster_id=cluster,
        wire_source=wire,
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def article_record(service: Service, article_id: str) -> dict[str, Any] | None:
    """An article with its revisions, captures and story, or None."""
    with service.catalog() as catalog:
        article = catalog.article(article_id)
        if article is None:
            return None
        cluster_id = article.get("cluster_id")
        return article | {
            "revisions": catalog.revisions_of(article_id),
            "captures": catalog.captures_of(article_id),
            "cluster": catalog.cluster(cluster_id) if cluster_id else None,
            "raw_url": f"/api/articles/{article_id}/raw",
        }


@router.get(
    "/articles/{article_id}", response_model=Article, responses=NOT_FOUND, summary="An article"
)
def article(article_id: str, service: ServiceDep) -> Any:
    """An article: text, metadata, revisions, captures and its story's copies."""
    record = article_record(service, article_id)
    if record is None:
        raise HTTPException(404, f"no article {article_id!r}")
    return record


@router.get(
    "/articles/{article_id}/raw",
    response_class=Response,
    responses={
        200: {
            "description": "The stored HTTP response: status line, headers, body.",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        404: {"model": Error, "description": "Unknown id, or its record is missing."},
        503: {"model": Error, "description": "The store cannot be read now."},
    },
    summary="An article's raw capture",
)
def raw(
    article_id: str,
    service: ServiceDep,
    decoded: Annotated[
        bool, Query(description="the body decoded (gzip, br... undone), headers to match")
    ] = False,
) -> Response:
    """The HTTP response the article's text was extracted from, read from its WARC record,
    as received (the body before content decoding), as a download that is never rendered on
    this origin."""
    from archive.storage.spool import SpoolError
    from archive.storage.store import StoreError

    with service.catalog() as catalog:
        found = catalog.article(article_id)
    if found is None:
        raise HTTPException(404, f"no article {article_id!r}")
    try:
        data = service.raw_response(found, decoded)
    except KeyError:
        raise HTTPException(404, f"raw capture {found['raw_key']} is missing") from None
    except (StoreError, SpoolError) as exc:
        raise HTTPException(503, f"raw capture {found['raw_key']} unavailable: {exc}") from None
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{found["id"]}.http"',
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/stats", response_model=Stats, summary="Archive statistics")
def stats(service: ServiceDep, crawls: Annotated[int, Query(ge=0, le=100)] = 10) -> Any:
    """What the archive holds, and the most recent crawls with their per-source counts."""
    with service.catalog() as catalog:
        return catalog.stats() | {"crawls": catalog.recent_crawls(crawls)}
