"""`wirearchive serve`: the JSON API over a real uvicorn server, a real archive and the
loopback test site; the address guard, the token, the limits, and a schema fuzzer."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import archive_env
from tests.support.apiserver import Server, processes_mentioning, serve, stop, wait_for_job
from tests.support.site import SEED

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a token, that may archive the loopback test site."""
    root = tmp_path_factory.mktemp("serve")
    with serve(root, archive_env(root, WIREARCHIVE_API_TOKEN=TOKEN)) as running:
        yield running


@pytest.fixture(scope="module")
def described(server: Server) -> schemathesis.BaseSchema:
    """The server's OpenAPI description, to validate real responses against."""
    return schemathesis.openapi.from_url(server.url("/openapi.json"))


def conforms(schema: schemathesis.BaseSchema, path: str, response: requests.Response) -> None:
    """Raise unless `response` is what the description says `path` answers."""
    schema[path][response.request.method].validate_response(response)


def post(server: Server, body: object, headers: dict[str, str] = AUTH) -> requests.Response:
    return requests.post(server.url("/api/archive"), json=body, headers=headers, timeout=30)


def get(server: Server, path: str, **params: object) -> requests.Response:
    return requests.get(server.url(path), params=params, timeout=30)


def test_archive_job_then_read_the_article(server: Server, described, test_site):
    origin, _ = test_site
    url = f"{origin}/seed-repost.html"
    submitted = post(server, {"url": url})
    assert submitted.status_code == 202, submitted.text
    conforms(described, "/api/archive", submitted)
    job = submitted.json()
    assert job["status"] == "queued" and job["urls"] == [url] and job["results"] == []
    assert submitted.headers["Location"] == f"/api/jobs/{job['id']}"
    job = wait_for_job(server, job["id"])
    assert job["status"] == "done" and job["error"] is None and job["finished_at"]
    [result] = job["results"]
    assert result["url"] == url and result["status"] == "archived"
    article_id = result["id"]

    listed = get(server, "/api/articles")
    conforms(described, "/api/articles", listed)
    assert [a["id"] for a in listed.json()["items"]] == [article_id]
    assert listed.json()["next_offset"] is None and listed.json()["limit"] == 20
    found = get(server, "/api/articles", q="NATO")
    conforms(described, "/api/articles", found)
    [hit] = found.json()["items"]
    assert hit["id"] == article_id and "[NATO]" in hit["snippet"]
    assert get(server, "/api/articles", q="NATO", since="2022-01-09").json()["items"]
    assert get(server, "/api/articles", q="NATO", since="2022-01-10").json()["items"] == []
    assert get(server, "/api/articles", wire="Reuters").json()["items"] == []
    assert get(server, "/api/articles", q='"').json()["items"] == []  # no words: no error

    detail = get(server, f"/api/articles/{article_id}")
    conforms(described, "/api/articles/{article_id}", detail)
    article = detail.json()
    assert "NATO" in article["title"] and article["wire_source"] == "Sputnik"
    assert "Russia is not prepared to discuss" in article["text"]
    assert article["revisions"] == [] and len(article["captures"]) == 1
    assert article["cluster"]["id"] == article["cluster_id"]
    assert [m["id"] for m in article["cluster"]["members"]] == [article_id]
    assert article["raw_url"] == f"/api/articles/{article_id}/raw"

    raw = get(server, article["raw_url"])
    conforms(described, "/api/articles/{article_id}/raw", raw)
    assert raw.content.startswith(b"HTTP/1.1 200") and raw.content.endswith(SEED.read_bytes())
    assert raw.headers["Content-Type"] == "application/octet-stream"
    assert raw.headers["Content-Disposition"].startswith("attachment")
    assert raw.headers["Content-Security-Policy"].startswith("sandbox")
    assert raw.headers["X-Content-Type-Options"] == "nosniff"

    stats = get(server, "/api/stats")
    conforms(described, "/api/stats", stats)
    assert stats.json()["articles"] == 1 and stats.json()["captures"] == 1
    [run] = stats.json()["crawls"]  # `add` is a crawl of its URLs
    assert run["status"] == "ok" and run["sources"][0]["new_articles"] == 1


def test_submitting_needs_the_token_when_the_server_has_one(server: Server, described):
    url = "https://example.com/"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = post(server, {"url": url}, headers=headers)
        assert refused.status_code == 401, headers
        assert "token" in refused.json()["detail"]
        conforms(described, "/api/archive", refused)
        assert refused.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme file"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/", "loopback"),  # the server allows 127.0.0.0/8 only
        ("http://10.0.0.1/", "private"),
        ("javascript:alert(1)", "scheme javascript"),
        ("data:text/html,<script>alert(1)</script>", "scheme data"),
        ("ftp://example.com/file", "scheme ftp"),
        ("http://user:pw@example.com/", "credentials"),
        pytest.param("https://example.com/" + "a" * 2048, "at most 2048", id="over-long"),
        ("https://example.com/\nhttp://10.0.0.1/", "pattern"),  # one URL a line for `add`
    ],
)
def test_the_address_guard_refuses_before_queueing(server: Server, described, url, reason):
    before = get(server, "/api/stats").json()
    refused = post(server, {"url": url})
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert reason in error["msg"] and error["loc"][:2] == ["body", "url"]
    conforms(described, "/api/archive", refused)
    assert get(server, "/api/stats").json() == before


def test_one_refused_url_refuses_the_whole_batch(server: Server, test_site):
    origin, _ = test_site
    refused = post(server, {"urls": [f"{origin}/seed-repost.html", "http://10.0.0.1/"]})
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "urls", 1] and "private" in error["msg"]


def test_a_redirect_to_a_private_address_is_refused_by_the_crawl(server: Server, test_site):
    origin, seen = test_site
    url = f"{origin}/to-private.html"
    submitted = post(server, {"urls": [url]})
    assert submitted.status_code == 202, submitted.text
    job = wait_for_job(server, submitted.json()["id"])
    assert job["status"] == "done"  # `add` exits 1 for a refused URL: the job still ran
    [result] = job["results"]
    assert result["status"] == "refused" and "link-local" in result["reason"]
    assert result["final_url"] == "http://169.254.169.254/latest/meta-data/"
    assert "/to-private.html" in seen


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b'{"url": 5}',
        b'{"url": ""}',
        b'{"urls": []}',
        b'{"urls": "https://example.com/"}',
        b'{"url": "https://example.com/", "urls": ["https://example.org/"]}',
        b'{"url": "https://example.com/", "priority": 1}',
        json.dumps({"urls": ["https://example.com/"] * 101}).encode(),
    ],
)
def test_bad_bodies_are_422(server: Server, body: bytes):
    headers = AUTH | {"Content-Type": "application/json"}
    response = requests.post(server.url("/api/archive"), data=body, headers=headers, timeout=30)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "kind", [None, "application/x-www-form-urlencoded", "text/plain; charset=utf-8"]
)
def test_a_body_not_sent_as_json_is_415(server: Server, kind: str | None):
    body = b'{"url": "https://example.com/"}'
    request = requests.Request("POST", server.url("/api/archive"), data=body, headers=AUTH)
    prepared = request.prepare()
    prepared.headers.pop("Content-Type", None)
    if kind:
        prepared.headers["Content-Type"] = kind
    with requests.Session() as session:
        response = session.send(prepared, timeout=30)
    assert response.status_code == 415, response.text
    assert response.json()["detail"].startswith("send the body as JSON")
    typed = requests.post(
        server.url("/api/archive"),
        data=body,
        headers=AUTH | {"Content-Type": "application/json; charset=utf-8"},
        timeout=30,
    )
    assert typed.status_code != 415


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/jobs/no-such-job", {}, 404),
        ("/api/articles/no-such-article", {}, 404),
        ("/api/articles/no-such-article/raw", {}, 404),
        ("/api/articles", {"since": "2022-02-30"}, 422),
        ("/api/articles", {"until": "20220101"}, 422),
        ("/api/articles", {"since": "0"}, 422),
        ("/api/articles", {"limit": 0}, 422),
        ("/api/articles", {"limit": 101}, 422),
        ("/api/articles", {"offset": -1}, 422),
    ],
)
def test_unknown_ids_404_and_bad_parameters_422(server: Server, path, params, status):
    response = get(server, path, **params)
    assert response.status_code == status and response.json()["detail"]


def test_rate_limit_queue_bound_and_shutdown(tmp_path: Path, test_site):
    origin, _ = test_site
    env = archive_env(tmp_path, WIREARCHIVE_API_RATE="3", WIREARCHIVE_API_QUEUE="1")
    with serve(tmp_path, env) as limited:
        slow = {"url": f"{origin}/slow.html"}  # a job that runs for SLOW_SECONDS
        first = post(limited, slow, headers={})
        assert first.status_code == 202
        while get(limited, f"/api/jobs/{first.json()['id']}").json()["status"] == "queued":
            time.sleep(0.05)
        assert post(limited, slow, headers={}).status_code == 202  # waits: the queue is full
        full = post(limited, slow, headers={})
        assert full.status_code == 503 and "queue is full" in full.json()["detail"]
        assert int(full.headers["Retry-After"]) > 0
        throttled = post(limited, slow, headers={})
        assert throttled.status_code == 429 and "3 a minute" in throttled.json()["detail"]
        assert 0 < int(throttled.headers["Retry-After"]) <= 60
        running = processes_mentioning(str(tmp_path / "archive.db"))
        assert running, "the first job's `wirearchive add` should be running"
        stop(limited)
        assert "Application shutdown complete" in limited.log()  # uvicorn's graceful stop
    deadline = time.monotonic() + 10
    while processes_mentioning(str(tmp_path / "archive.db")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(tmp_path / "archive.db")) == []


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that may not fetch loopback or private hosts, with a token the fuzzer is
    not given: its POSTs get 401 and nothing reaches the network."""
    root = tmp_path_factory.mktemp("fuzzed")
    env = archive_env(
        root, WIREARCHIVE_API_TOKEN=TOKEN, WIREARCHIVE_API_QUEUE="2", WIREARCHIVE_API_RATE="10000"
    )
    del env["WIREARCHIVE_ALLOW_PRIVATE"]
    with serve(root, env) as running:
        yield running


def test_a_host_resolving_to_loopback_is_refused(fuzzed: Server, test_site):
    origin, _ = test_site
    port = origin.rsplit(":", 1)[1]
    refused = post(fuzzed, {"url": f"http://localhost:{port}/seed-repost.html"})
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert "resolves to a refused address" in error["msg"] and "loopback" in error["msg"]


@pytest.fixture(scope="module")
def api_schema(fuzzed: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(fuzzed.url("/openapi.json"))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_openapi_description(case):
    case.call_and_validate(timeout=30)


def rss_bytes(pid: int) -> int:
    """The resident memory of process `pid` (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def send_chunked(server: Server, path: str, total: int, headers: str = "") -> tuple[bytes, int]:
    """POST a chunked body of `total` bytes (declaring `Content-Length: 1` too) over a raw
    socket, stopping as soon as the server answers; (the answer, the body bytes sent)."""
    host, port = server.base.removeprefix("http://").split(":")
    piece = b"x" * 65_536
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}"
            "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(chunk)
                sent += len(piece)
            if sent >= total:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection: its answer is read below
        answer = b""
        try:
            while data := sock.recv(65_536):
                answer += data
        except ConnectionResetError:
            pass
    return answer, sent


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/archive", "Content-Type: application/json\r\n"),
        ("/archive", "Content-Type: application/x-www-form-urlencoded\r\n"),  # the web form
    ],
)
def test_a_chunked_body_is_cut_off_at_the_limit(fuzzed: Server, path: str, headers: str):
    total = 64 * 1024 * 1024
    before = rss_bytes(fuzzed.process.pid)
    answer, sent = send_chunked(fuzzed, path, total, headers)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body over 2097152 bytes" in answer
    assert sent < total  # refused as it came, not once it was all there
    assert rss_bytes(fuzzed.process.pid) - before < total // 4


def forwarded_for(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{n}"}


PRIVATE = {"url": "http://10.0.0.1/"}  # passes the rate limit and the token, then 422


def test_forwarded_for_is_ignored_and_401s_have_their_own_budget(tmp_path: Path):
    env = archive_env(tmp_path, WIREARCHIVE_API_TOKEN=TOKEN, WIREARCHIVE_API_RATE="3")
    with serve(tmp_path, env) as limited:
        anonymous = [post(limited, PRIVATE, forwarded_for(n)).status_code for n in range(4)]
        assert anonymous == [401, 401, 401, 429]  # rotating X-Forwarded-For changes nothing
        holder = [post(limited, PRIVATE, AUTH | forwarded_for(n)).status_code for n in range(4)]
        assert holder == [422, 422, 422, 429]  # the 401s did not use up the token's budget


def test_forwarded_for_is_believed_from_a_trusted_proxy(tmp_path: Path):
    env = archive_env(tmp_path, WIREARCHIVE_API_RATE="3", WIREARCHIVE_TRUSTED_PROXIES="127.0.0.1")
    with serve(tmp_path, env) as proxied:
        assert {post(proxied, PRIVATE, forwarded_for(n)).status_code for n in range(5)} == {422}
        same = [post(proxied, PRIVATE, forwarded_for(9)).status_code for _ in range(4)]
        assert same == [422, 422, 422, 429]


def test_a_bad_trusted_proxies_setting_is_a_clear_error(tmp_path: Path):
    env = archive_env(tmp_path, WIREARCHIVE_TRUSTED_PROXIES="127.0.0.1,proxy.local")
    proc = subprocess.run(
        [sys.executable, "-m", "archive", "serve", "--port", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "WIREARCHIVE_TRUSTED_PROXIES" in proc.stderr


def test_a_taken_port_is_one_clear_line(server: Server, tmp_path: Path):
    port = server.base.rsplit(":", 1)[1]
    proc = subprocess.run(
        [sys.executable, "-m", "archive", "serve", "--port", port],
        env=archive_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr


def test_serving_beyond_loopback_without_a_token_warns(tmp_path: Path):
    # On a taken port, so that the command ends right after its checks.
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        runs = {}
        for name, host, extra in (
            ("open", "0.0.0.0", {}),
            ("token", "0.0.0.0", {"WIREARCHIVE_API_TOKEN": "t0ken"}),
            ("loopback", "127.0.0.1", {}),
        ):
            runs[name] = subprocess.run(
                [sys.executable, "-m", "archive", "serve", "--host", host, "--port", port],
                env=archive_env(tmp_path / name, **extra),
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            ).stderr
    assert runs["open"].startswith("warning: serving on 0.0.0.0 without WIREARCHIVE_API_TOKEN")
    assert "warning" not in runs["token"] and "warning" not in runs["loopback"]
    assert all("Address already in use" in err for err in runs.values()), runs
