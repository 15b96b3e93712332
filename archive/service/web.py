"""The web pages: recent articles, search, article and story views, crawls, and a form to
archive a URL. Server-side templates (autoescaped), no JavaScript."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from archive.service.api import (
    MAX_OFFSET,
    MAX_QUERY,
    QUEUE_RETRY_AFTER,
    ServiceDep,
    article_record,
    client_of,
)
from archive.service.apimodels import Crawl, Url
from archive.service.feeds import changes_feed, marked_html
from archive.service.jobs import DONE, FAILED, QueueFull
from archive.service.service import Service
from archive.storage.catalog import COUNT_COLUMNS
from archive.storage.edits import compare, copies_against_origin, edits, numbered

PAGE = 20
FEED_ARTICLES = 50  # the most recently edited articles the edits feed covers
MAX_DIFFS = 20  # the latest changes an article page shows
MAX_COMPARED = 100  # the first copies of a story its page compares with the origin
# The "as captured" page may frame this site; the archived page in the frame is sandboxed
# (an opaque origin, no scripts, forms or popups) and may load nothing at all but inline
# styles and data: images: no request leaves for the live web, none reaches this site.
VIEW_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
FRAMED_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "media-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)
MAX_FORM_BYTES = 16_384
FORM_COOKIE = "wirearchive_form"
_FORM_KEY = secrets.token_bytes(32)  # signs form tokens; a restart asks for a reload
_NONCE = re.compile(r"[0-9a-f]{32}")
_SNIPPET_MATCH = re.compile(r"\[([^\[\]]*)\]")
_URL = TypeAdapter(Url)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


def _marked(snippet: str | None) -> Markup:
    """A search snippet, escaped, with its [matches] in <mark>."""
    return Markup(_SNIPPET_MATCH.sub(r"<mark>\1</mark>", str(escape(snippet or ""))))


def _is_web_url(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def _when(value: Any, empty: str = "") -> Markup:
    """An ISO date or time as `<time datetime=ISO>` showing it readably ("1 Mar 2024,
    03:30 UTC", a bare date as "1 Mar 2024"); a value that is neither is shown as it is,
    none as `empty`."""
    if not value:
        return Markup("{}").format(empty)
    text = str(value)
    try:
        if len(text) == 10:
            shown = f"{date.fromisoformat(text):%-d %b %Y}"
        else:
            moment = datetime.fromisoformat(text)
            moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
            shown = f"{moment:%-d %b %Y, %H:%M} UTC"
    except ValueError:
        return Markup("{}").format(text)
    return Markup('<time datetime="{}">{}</time>').format(text, shown)


def _with_stories(service: Service, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`items` (article summaries), each with `story_size` and `story_origin` of its
    near-duplicate cluster, so that lists can tell a story's copies apart."""
    ids = sorted({a["cluster_id"] for a in items if a.get("cluster_id")})
    with service.catalog() as catalog:
        rows = catalog.db.execute(
            f"select id, size, origin_id from clusters where id in ({', '.join('?' * len(ids))})",
            ids,
        ).fetchall()
    stories = {cluster_id: (size, origin) for cluster_id, size, origin in rows}
    marked = []
    for a in items:
        size, origin = stories.get(a.get("cluster_id") or "", (1, None))
        marked.append(a | {"story_size": size, "story_origin": origin})
    return marked


templates.env.filters["marked"] = _marked
templates.env.filters["diff_html"] = lambda diff: [Markup(p) for p in marked_html(diff)]
templates.env.filters["when"] = _when
templates.env.filters["host"] = lambda url: urlsplit(str(url or "")).hostname or ""
templates.env.tests["web_url"] = _is_web_url
templates.env.globals["count_columns"] = COUNT_COLUMNS


def _page(path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Route a web page: GET, and HEAD answered alike without the body (uvicorn drops it)."""
    return router.api_route(path, methods=["GET", "HEAD"], response_class=HTMLResponse)


def _render(
    request: Request, name: str, context: dict[str, Any], status: int = 200, **headers: str
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status, headers=headers)


def _not_found(request: Request, what: str) -> HTMLResponse:
    return _render(request, "error.html", {"title": "Not found", "message": f"No {what}."}, 404)


def _home_context(service: Service) -> dict[str, Any]:
    with service.catalog() as catalog:
        articles, stats = catalog.latest(limit=PAGE), catalog.stats()
    return {"articles": _with_stories(service, articles), "stats": stats}


def _form_token(nonce: str) -> str:
    """The token a form carries for the browser whose cookie holds `nonce`."""
    return hmac.new(_FORM_KEY, nonce.encode(), hashlib.sha256).hexdigest()


def _cross_site(request: Request, form: dict[str, list[str]]) -> str | None:
    """Why a form post may come from another site's page; None when it is this site's form:
    Origin and Referer (when sent) name this host, and the form's token matches the cookie
    (SameSite=Strict: another site's post does not carry it)."""
    host = request.headers.get("host", "").lower()
    for name in ("origin", "referer"):
        value = request.headers.get(name)
        if value is not None and urlsplit(value).netloc.lower() != host:
            return f"it came from {value}, not from this site"
    nonce = request.cookies.get(FORM_COOKIE, "")
    token = (form.get("csrf") or [""])[0]
    if not _NONCE.fullmatch(nonce) or not hmac.compare_digest(token, _form_token(nonce)):
        return "its form token is missing or out of date"
    return None


def _home(
    request: Request, service: Service, context: dict[str, Any], status: int = 200, **headers: str
) -> HTMLResponse:
    nonce = request.cookies.get(FORM_COOKIE, "")
    if not _NONCE.fullmatch(nonce):
        nonce = secrets.token_hex(16)
    base = {"token_required": service.token_required, "error": None, "url": ""}
    base["csrf"] = _form_token(nonce)
    response = _render(request, "index.html", base | context, status, **headers)
    response.set_cookie(
        FORM_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@_page("/")
def home(request: Request, service: ServiceDep) -> HTMLResponse:
    """Recent articles, a search box and the archive form."""
    return _home(request, service, _home_context(service))


@router.post("/archive")
async def submit(request: Request, service: ServiceDep) -> Response:
    """The archive form (form-encoded `url`, `token`): 303 to the job's page."""
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), max_num_fields=10)
    url = (form.get("url") or [""])[0].strip()
    status, error, headers = 200, None, {}
    tokens = form.get("token")
    authorized = service.authorized(tokens[0] if tokens else None)
    if why := _cross_site(request, form):
        status, error = 403, f"Not archived: {why}. Reload this page and submit the form again."
    elif wait := service.throttle(client_of(request), authorized):
        status, error = 429, f"Too many submissions: try again in {wait} s."
        headers = {"Retry-After": str(wait)}
    elif not authorized:
        status, error = 401, "A valid API token is required."
    else:
        try:
            error = await service.refusal(_URL.validate_python(url))
        except ValidationError as exc:
            error = exc.errors()[0]["msg"]
        if error:
            status, error = 422, f"Not archived: {error}"
    if error is None:
        try:
            job = service.jobs.submit([url])
        except QueueFull as exc:
            status, error = 503, f"The queue is full ({exc}): try again later."
            headers = {"Retry-After": str(QUEUE_RETRY_AFTER)}
        else:
            return RedirectResponse(f"/jobs/{job['id']}", status_code=303)
    context = await run_in_threadpool(_home_context, service)
    context |= {"error": error, "url": url}
    return _home(request, service, context, status, **headers)


@_page("/jobs/{job_id}")
def job_page(request: Request, job_id: str, service: ServiceDep) -> HTMLResponse:
    """A job's progress (the page refreshes itself until the job ends), then its results."""
    job = service.jobs.get(job_id)
    if job is None:
        return _not_found(request, "such job")
    finished = job["status"] in (DONE, FAILED)
    return _render(request, "job.html", {"job": job, "finished": finished})


@_page("/search")
def search_page(
    request: Request,
    service: ServiceDep,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    """Search results with snippets, PAGE at a time."""
    hits: list[dict[str, Any]] = []
    if q.strip():
        with service.catalog() as catalog:
            hits = catalog.search(q, limit=PAGE + 1, offset=offset)
    context = {
        "q": q,
        "hits": _with_stories(service, hits[:PAGE]),
        "offset": offset,
        "next_offset": offset + PAGE if len(hits) > PAGE else None,
    }
    return _render(request, "search.html", context)


@_page("/articles/{article_id}")
def article_page(request: Request, article_id: str, service: ServiceDep) -> HTMLResponse:
    """An article's extracted text (never the archived HTML), metadata, revisions, copies."""
    article = article_record(service, article_id)
    if article is None:
        return _not_found(request, "such article")
    texts = numbered(article["revisions"], article)  # the record has them already
    diffs = [compare(article, old, new) for old, new in pairwise(texts)]
    shown = [d for d in reversed(diffs) if d.title_changed or d.words != (0, 0)][:MAX_DIFFS]
    return _render(request, "article.html", {"article": article, "diffs": shown})


@_page("/captures/{capture_id}")
def capture_page(request: Request, capture_id: str, service: ServiceDep) -> HTMLResponse:
    """A capture "as captured": its archived page in a sandboxed frame that runs no script
    and loads nothing from the live web."""
    with service.catalog() as catalog:
        capture = catalog.capture(capture_id)
        article = catalog.article(capture["article_id"]) if capture else None
    if capture is None:
        return _not_found(request, "such capture")
    context = {"capture": capture, "article": article}
    page = _render(request, "capture.html", context)
    page.headers["Content-Security-Policy"] = VIEW_CSP
    return page


@router.api_route("/captures/{capture_id}/page", methods=["GET", "HEAD"])
def captured_page(capture_id: str, service: ServiceDep) -> Response:
    """The archived body of a capture, for the frame of its page only: sandboxed (no script,
    no plugin, an origin of its own), and no request to anywhere (Content-Security-Policy)."""
    from archive.storage.spool import SpoolError
    from archive.storage.store import StoreError

    try:
        response = service.captured(capture_id)
    except KeyError:
        return Response("its WARC record is missing", 404, media_type="text/plain")
    except (StoreError, SpoolError) as exc:
        return Response(f"the store cannot be read now: {exc}", 503, media_type="text/plain")
    if response is None:
        return Response("no such capture", 404, media_type="text/plain")
    kind = response.headers.get_header("Content-Type") or "text/html"
    headers = {"Content-Security-Policy": FRAMED_CSP, "Referrer-Policy": "no-referrer"}
    return Response(response.body, media_type=kind, headers=headers)


@_page("/stories/{cluster_id}")
def story_page(request: Request, cluster_id: str, service: ServiceDep) -> HTMLResponse:
    """A story (near-duplicate cluster) and its copies, its origin marked."""
    with service.catalog() as catalog:
        story = catalog.cluster(cluster_id)
        if story is None:
            return _not_found(request, "such story")
        members = story["members"][:MAX_COMPARED]  # exact copies have the origin's text
        copies = [catalog.article(m["id"]) for m in members if not m["duplicate_of"]]
        against = copies_against_origin(catalog, story, [c for c in copies if c is not None])
    return _render(request, "story.html", {"story": story, "against": against})


@router.api_route("/changes.atom", methods=["GET", "HEAD"])
def changes_atom(
    request: Request,
    service: ServiceDep,
    since: Annotated[date | None, Query(description="only edits found on or after")] = None,
    source: Annotated[str | None, Query(description="only this source's articles")] = None,
) -> Response:
    """The edits of archived articles as an Atom feed, newest first."""
    with service.catalog() as catalog:
        found = edits(catalog, since.isoformat() if since else None, source, FEED_ARTICLES)
    found.sort(key=lambda edit: edit.new.fetched_at, reverse=True)
    body = changes_feed(found, str(request.base_url), str(request.url))
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@_page("/crawls")
def crawls_page(request: Request, service: ServiceDep) -> HTMLResponse:
    """Recent crawl runs with their per-source counts."""
    with service.catalog() as catalog:
        runs = [Crawl.model_validate(row) for row in catalog.recent_crawls(PAGE)]
    return _render(request, "crawls.html", {"crawls": runs})
