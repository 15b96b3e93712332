"""Tests for the SeaweedFS test helper in ``tests/support/s3server.py``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.support.s3server import (
    GRPC_OFFSET,
    MAX_PORT,
    SeaweedFS,
    SeaweedFSError,
    pick_ports,
    s3_client,
    seaweedfs,
    unix_sockets,
)


def _alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _error_code(exc: ClientError) -> tuple[str, int]:
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def test_pick_ports_gives_free_pairs() -> None:
    ports = pick_ports(4)
    pairs = {p for port in ports for p in (port, port + GRPC_OFFSET)}
    assert len(pairs) == 8
    assert all(port < MAX_PORT for port in ports)
    for port in pairs:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))


def test_bucket_put_get_list_head(s3: SeaweedFS) -> None:
    client = s3_client(s3.endpoint)
    client.create_bucket(Bucket="crud")
    client.put_object(Bucket="crud", Key="a/1.txt", Body=b"hello", ContentType="text/plain")
    client.put_object(Bucket="crud", Key="a/2.txt", Body=b"world")

    assert client.get_object(Bucket="crud", Key="a/1.txt")["Body"].read() == b"hello"
    listing = client.list_objects_v2(Bucket="crud", Prefix="a/")
    assert [o["Key"] for o in listing["Contents"]] == ["a/1.txt", "a/2.txt"]

    head = client.head_object(Bucket="crud", Key="a/1.txt")
    assert head["ContentLength"] == 5
    assert head["ContentType"] == "text/plain"
    with pytest.raises(ClientError) as missing:
        client.head_object(Bucket="crud", Key="nope")
    assert _error_code(missing.value)[1] == 404


def test_conditional_put_if_none_match(s3: SeaweedFS) -> None:
    client = s3_client(s3.endpoint)
    client.create_bucket(Bucket="cond")
    client.put_object(Bucket="cond", Key="k", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket="cond", Key="k", Body=b"second", IfNoneMatch="*")
    assert _error_code(exc.value) == ("PreconditionFailed", 412)
    assert client.get_object(Bucket="cond", Key="k")["Body"].read() == b"first"


def test_any_credentials_work_but_list_buckets_is_empty(s3: SeaweedFS) -> None:
    s3_client(s3.endpoint).create_bucket(Bucket="anyone")
    other = s3_client(s3.endpoint, access_key="someone-else", secret_key="whatever")
    other.put_object(Bucket="anyone", Key="k", Body=b"x")
    assert other.get_object(Bucket="anyone", Key="k")["Body"].read() == b"x"
    # Without an identity config SeaweedFS hides every bucket from ListBuckets.
    assert other.list_buckets()["Buckets"] == []


def test_many_buckets_can_be_written(s3: SeaweedFS) -> None:
    """With default volume growth the second new bucket already fails to take writes."""
    client = s3_client(s3.endpoint)
    for i in range(12):
        client.create_bucket(Bucket=f"many-{i}")
        client.put_object(Bucket=f"many-{i}", Key="k", Body=b"x")


@pytest.mark.slow
def test_stop_start_keeps_data(tmp_path: Path) -> None:
    with seaweedfs(tmp_path) as server:
        endpoint, ports = server.endpoint, dict(server.ports)
        client = server.client(retries={"max_attempts": 1}, connect_timeout=1)
        client.create_bucket(Bucket="persist")
        client.put_object(Bucket="persist", Key="before", Body=b"kept")
        pgid = server.pid
        assert pgid is not None

        server.stop()
        assert not server.running
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)
        assert not any(path.exists() for path in unix_sockets(ports))
        with pytest.raises(EndpointConnectionError):
            client.list_objects_v2(Bucket="persist")

        server.start()
        assert (server.endpoint, server.ports) == (endpoint, ports)
        assert client.get_object(Bucket="persist", Key="before")["Body"].read() == b"kept"
        client.put_object(Bucket="persist", Key="after", Body=b"new")
        client.create_bucket(Bucket="fresh")
        client.put_object(Bucket="fresh", Key="k", Body=b"grows a volume")

        server.stop(timeout=0)  # crash-like stop, then restart from a helper thread
        worker = threading.Thread(target=server.start)
        worker.start()
        worker.join()
        assert server.running  # outlives the thread that started it
        keys = [o["Key"] for o in client.list_objects_v2(Bucket="persist")["Contents"]]
        assert keys == ["after", "before"]
        assert client.get_object(Bucket="fresh", Key="k")["Body"].read() == b"grows a volume"
    assert not server.running


def test_two_instances_side_by_side(s3: SeaweedFS, tmp_path: Path) -> None:
    with seaweedfs(tmp_path, stop_timeout=1) as other:
        assert other.endpoint != s3.endpoint
        assert not set(other.ports.values()) & set(s3.ports.values())
        first, second = s3_client(s3.endpoint), s3_client(other.endpoint)
        for client, body in ((first, b"one"), (second, b"two")):
            client.create_bucket(Bucket="twin")
            client.put_object(Bucket="twin", Key="k", Body=body)
        assert first.get_object(Bucket="twin", Key="k")["Body"].read() == b"one"
        assert second.get_object(Bucket="twin", Key="k")["Body"].read() == b"two"


def test_auth_mode_lists_buckets_and_rejects_other_keys(tmp_path: Path) -> None:
    with seaweedfs(tmp_path, auth=True, stop_timeout=1) as server:
        client = server.client()
        client.create_bucket(Bucket="owned")
        assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["owned"]
        stranger = s3_client(server.endpoint, access_key="stranger", retries={"max_attempts": 1})
        with pytest.raises(ClientError) as exc:
            stranger.list_objects_v2(Bucket="owned")
        assert _error_code(exc.value)[0] == "InvalidAccessKeyId"


def test_start_failure_reports_log_tail(tmp_path: Path) -> None:
    server = SeaweedFS(tmp_path, extra_args=("-no-such-flag",))
    with pytest.raises(SeaweedFSError, match="exited with code") as exc:
        server.start()
    assert "flag provided but not defined: -no-such-flag" in str(exc.value)
    assert not server.running


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses PR_SET_PDEATHSIG")
def test_weed_dies_with_a_killed_test_process(tmp_path: Path) -> None:
    script = (
        "import json, os, sys; from pathlib import Path; "
        "from tests.support.s3server import SeaweedFS; "
        "s = SeaweedFS(Path(sys.argv[1])); s.start(); "
        "print(json.dumps([s.pid, s.ports]), flush=True); os._exit(0)"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    pid, ports = json.loads(out.stdout.splitlines()[-1])
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):  # do not leak it even when the test fails
        os.killpg(pid, signal.SIGKILL)
        pytest.fail(f"weed {pid} outlived its killed parent")
    for path in unix_sockets(ports):  # nobody called stop(), so clean up by hand
        path.unlink(missing_ok=True)
