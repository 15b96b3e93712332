"""The archive on a real S3 API (SeaweedFS): same keys as the local folder, idempotent."""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import ClientError

from archive.storage.store import S3Store
from tests.conftest import Archive, archive_env, s3_env
from tests.support.s3server import s3_client


def _s3_keys(client, bucket: str, prefix: str) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    return {o["Key"].removeprefix(prefix + "/") for page in pages for o in page.get("Contents", [])}


@pytest.mark.slow
def test_same_input_same_keys_in_local_and_s3_stores(tmp_path, test_site, s3):
    origin, _ = test_site
    client = s3_client(s3.endpoint)
    client.create_bucket(Bucket="wa-keys")
    urls = [f"{origin}/seed-repost.html", f"{origin}/pages/observer.com-LVMH.html"]

    local = Archive(tmp_path / "local", archive_env(tmp_path / "local"))
    code, local_results = local.add(*urls)
    assert code == 0
    remote = Archive(tmp_path / "s3", s3_env(tmp_path / "s3", s3.endpoint, "s3://wa-keys/archive"))
    code, s3_results = remote.add(*urls)
    assert code == 0, s3_results
    assert {u: r["id"] for u, r in s3_results.items()} == {
        u: r["id"] for u, r in local_results.items()
    }
    keys = _s3_keys(client, "wa-keys", "archive")
    # The same article documents under the same keys; the WARC file is named by its run.
    assert {k for k in keys if k.startswith("articles/")} == {
        k for k in local.stored_keys() if k.startswith("articles/")
    }
    assert sorted(k.split("/")[0] for k in keys) == ["articles", "articles", "raw"]
    # The catalog points at objects that exist in the bucket.
    article = remote.show(s3_results[urls[0]]["id"])
    assert article["wire_source"] == "Sputnik"
    head = client.head_object(Bucket="wa-keys", Key=f"archive/{article['raw_key']}")
    assert head["ContentLength"] > article["raw_offset"] + article["raw_length"]

    # Adding again changes no object: the refetch goes to a new WARC file, as revisits.
    before = {
        o["Key"]: o["ETag"]
        for o in client.list_objects_v2(Bucket="wa-keys", Prefix="archive/")["Contents"]
    }
    code, again = remote.add(*urls)
    assert code == 0 and {r["status"] for r in again.values()} == {"unchanged"}
    after = {
        o["Key"]: o["ETag"]
        for o in client.list_objects_v2(Bucket="wa-keys", Prefix="archive/")["Contents"]
    }
    assert before.items() <= after.items()
    assert [k.split("/")[1] for k in set(after) - set(before)] == ["raw"]

    # The bucket alone rebuilds the catalog.
    for path in remote.root.glob("archive.db*"):
        if path.is_file():  # the catalog and its WAL; its spool folder stays
            path.unlink()
    proc = remote.run("reindex")
    assert proc.returncode == 0 and "reindexed 2 articles" in proc.stdout, proc.stderr
    assert "4 captures" in proc.stdout  # two responses, two revisits
    assert remote.show(s3_results[urls[0]]["id"])["raw_key"] == article["raw_key"]


def test_missing_bucket_is_a_clear_error_before_crawling(tmp_path, test_site, s3):
    origin, requested = test_site
    before = len(requested)
    archive = Archive(tmp_path, s3_env(tmp_path, s3.endpoint, "s3://no-such-bucket/x"))
    proc = archive.run("add", f"{origin}/seed-repost.html")
    assert proc.returncode == 1
    assert "no-such-bucket" in proc.stderr and "Traceback" not in proc.stderr
    assert len(requested) == before


def test_large_files_go_up_in_parts_once(tmp_path, s3):
    client = s3_client(s3.endpoint)
    client.create_bucket(Bucket="wa-parts")
    store = S3Store("wa-parts", "p", client=client, multipart_bytes=5 * 1024 * 1024)
    path = tmp_path / "big.warc.gz"
    data = os.urandom(11 * 1024 * 1024)
    path.write_bytes(data)
    assert store.put_file_if_absent("raw/big.warc.gz", path, "application/warc") is True
    head = client.head_object(Bucket="wa-parts", Key="p/raw/big.warc.gz")
    assert head["ETag"].strip('"').endswith("-3")  # three parts of at most 5 MiB
    assert store.get("raw/big.warc.gz") == data
    assert store.get_range("raw/big.warc.gz", 7_000_000, 10) == data[7_000_000:7_000_010]
    # A second upload of the same file writes nothing.
    assert store.put_file_if_absent("raw/big.warc.gz", path, "application/warc") is False


def test_a_store_without_conditional_writes_gets_a_check_first(s3):
    client = s3_client(s3.endpoint)
    client.create_bucket(Bucket="wa-nocond")

    def like_an_older_store(params, **_):  # the fault: If-None-Match is not implemented
        if "IfNoneMatch" in params:
            error = {"Error": {"Code": "NotImplemented", "Message": "If-None-Match"}}
            raise ClientError(error, "PutObject")

    client.meta.events.register("provide-client-params.s3.PutObject", like_an_older_store)
    store = S3Store("wa-nocond", "p", client=client)
    assert store.put_if_absent("articles/a/b.json", b"first", "application/json") is True
    assert store.put_if_absent("articles/a/b.json", b"second", "application/json") is False
    assert store.get("articles/a/b.json") == b"first"
