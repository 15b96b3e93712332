"""The archive on a real S3 API (SeaweedFS): same keys as the local folder, idempotent."""

from __future__ import annotations

from tests.conftest import Archive, archive_env, s3_env
from tests.s3server import s3_client


def _s3_keys(client, bucket: str, prefix: str) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    return {o["Key"].removeprefix(prefix + "/") for page in pages for o in page.get("Contents", [])}


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
    assert keys == local.stored_keys()
    assert len(keys) == 4  # one WARC and one JSON per article
    # The catalog points at objects that exist in the bucket.
    article = remote.show(s3_results[urls[0]]["id"])
    assert article["wire_source"] == "Sputnik"
    head = client.head_object(Bucket="wa-keys", Key=f"archive/{article['raw_key']}")
    assert head["ContentLength"] > 0

    # Adding again writes nothing: no new objects, no changed ones.
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
    assert after == before

    # The bucket alone rebuilds the catalog.
    for path in remote.root.glob("archive.db*"):
        path.unlink()
    proc = remote.run("reindex")
    assert proc.returncode == 0 and "reindexed 2 articles" in proc.stdout, proc.stderr
    assert remote.show(s3_results[urls[0]]["id"])["raw_key"] == article["raw_key"]


def test_missing_bucket_is_a_clear_error_before_crawling(tmp_path, test_site, s3):
    origin, requested = test_site
    before = len(requested)
    archive = Archive(tmp_path, s3_env(tmp_path, s3.endpoint, "s3://no-such-bucket/x"))
    proc = archive.run("add", f"{origin}/seed-repost.html")
    assert proc.returncode == 1
    assert "no-such-bucket" in proc.stderr and "Traceback" not in proc.stderr
    assert len(requested) == before
