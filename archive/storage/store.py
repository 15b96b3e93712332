"""The object store, the archive's record: a local folder or S3, with the same keys in both.

Writes never overwrite: keys derive from content hashes or stable ids, so `put_if_absent`
makes every write idempotent (a retry, a rerun or a resumed crawl writes nothing twice).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if os.name == "posix" else None
# Files from this size up are uploaded in parts of this size (S3's minimum part is 5 MiB).
MULTIPART_BYTES = 16 * 1024 * 1024
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


class StoreError(Exception):
    """The object store failed or is misconfigured."""


class ObjectStore(Protocol):
    """What the pipelines need of a store."""

    uri: str

    def put_if_absent(self, key: str, data: bytes, content_type: str) -> bool:
        """Store `data` under `key` unless the key exists; True when this call wrote it."""
        ...

    def put_file_if_absent(self, key: str, path: Path, content_type: str) -> bool:
        """Store the file at `path` under `key` unless the key exists (multipart when large).
        Durable once `sync()` returns."""
        ...

    def sync(self) -> None:
        """Make what was put durable (one flush for a batch of puts)."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; KeyError when absent."""
        ...

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """`length` bytes of the object from `offset`; KeyError when absent."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """A binary stream of the object, read as it goes; KeyError when absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        ...

    def check(self) -> None:
        """Raise StoreError unless the store can be written to."""
        ...

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix` ("articles/", "raw/"), in no particular order."""
        ...


def check_key(key: str) -> str:
    """`key` when it is a safe relative key (no '..', no absolute path, plain characters)."""
    if not _KEY.fullmatch(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"unsafe object key: {key!r}")
    return key


class LocalStore:
    """Objects as files under a root folder; atomic, never overwritten."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_if_absent(self, key: str, data: bytes, content_type: str) -> bool:
        return self._put(key, lambda f: f.write(data))

    def put_file_if_absent(self, key: str, path: Path, content_type: str) -> bool:
        """A hard link to the spool's file when both are on one filesystem (no copy, and a
        link never replaces an existing name); else a copy. Durable after `sync()`."""
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                raise StoreError(f"cannot write {key} to {self.root}: {exc}") from exc
        with open(path, "rb") as source:
            return self._put(key, lambda f: shutil.copyfileobj(source, f, 1 << 20))

    def sync(self) -> None:
        """Flush the store's filesystem to disk: one syncfs for a whole upload round."""
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _LIBC is not None and _LIBC.syncfs(fd) == 0:
                return
            os.sync()
        finally:
            os.close(fd)

    def _put(self, key: str, write: Callable[[IO[bytes]], object]) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as exc:
            raise StoreError(f"cannot write {key} to {self.root}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)  # fails if another writer got there first: never overwrites
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot write {key} to {self.root}: {exc}") from exc
        finally:
            os.unlink(tmp)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        with self.open(key) as file:
            file.seek(offset)
            return file.read(length)

    def open(self, key: str) -> IO[bytes]:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix
        if base.is_dir():
            for path in base.rglob("*"):
                if path.is_file() and not path.name.startswith(".tmp-"):
                    yield path.relative_to(self.root).as_posix()

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot use {self.root} as the object store: {exc}") from exc
        if not os.access(self.root, os.W_OK):
            raise StoreError(f"cannot write to the object store {self.root}")


class S3Store:
    """Objects in an S3 bucket under a prefix, through boto3 (any S3-compatible server).

    The endpoint comes from AWS_ENDPOINT_URL and credentials from boto3's usual chain.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        client: Any = None,
        multipart_bytes: int = MULTIPART_BYTES,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.uri = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = client or make_s3_client()
        self.multipart_bytes = multipart_bytes
        self._conditional_put = True

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_if_absent(self, key: str, data: bytes, content_type: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        full = self._key(key)
        if not self._conditional_put and self._exists(full):
            return False
        args = {"Bucket": self.bucket, "Key": full, "Body": data, "ContentType": content_type}
        try:
            if self._conditional_put:
                self.client.put_object(IfNoneMatch="*", **args)
            else:
                self.client.put_object(**args)
            return True
        except BotoCoreError as exc:
            raise StoreError(f"S3 put {self.uri}/{key} failed: {exc}") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            if code in ("NotImplemented", "InvalidArgument") and self._conditional_put:
                # A store without conditional writes: check first, then put.
                self._conditional_put = False
                return self.put_if_absent(key, data, content_type)
            raise StoreError(f"S3 put {self.uri}/{key} failed: {code or exc}") from exc

    def sync(self) -> None:
        """Nothing to do: S3 has the object once the put returns."""

    def put_file_if_absent(self, key: str, path: Path, content_type: str) -> bool:
        """A file at or above `multipart_bytes` goes up in parts (boto3's managed transfer).
        Its key is unique to it (WARC files are named by run and serial), so a check first
        is enough to keep it from being written twice."""
        size = path.stat().st_size
        if size < self.multipart_bytes:
            return self.put_if_absent(key, path.read_bytes(), content_type)
        from boto3.exceptions import S3UploadFailedError
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import BotoCoreError, ClientError

        full = self._key(key)
        if self._exists(full):
            return False
        config = TransferConfig(
            multipart_threshold=self.multipart_bytes,
            multipart_chunksize=self.multipart_bytes,
            max_concurrency=4,
        )
        try:
            self.client.upload_file(
                str(path), self.bucket, full, ExtraArgs={"ContentType": content_type},
                Config=config,
            )  # fmt: skip
        except (S3UploadFailedError, BotoCoreError, ClientError) as exc:
            raise StoreError(f"S3 upload {self.uri}/{key} failed: {exc}") from exc
        return True

    def get(self, key: str) -> bytes:
        with self.open(key) as body:
            return body.read()

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        with self._get(key, Range=f"bytes={offset}-{offset + length - 1}") as body:
            return body.read()

    def open(self, key: str) -> IO[bytes]:
        return self._get(key)

    def _get(self, key: str, **args: str) -> IO[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key), **args)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise StoreError(f"S3 get {self.uri}/{key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3 get {self.uri}/{key} failed: {exc}") from exc
        return response["Body"]

    def exists(self, key: str) -> bool:
        return self._exists(self._key(key))

    def keys(self, prefix: str) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key(prefix.rstrip("/")) + "/"
        )
        strip = f"{self.prefix}/" if self.prefix else ""
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"].removeprefix(strip)
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"S3 list {self.uri}/{prefix} failed: {exc}") from exc

    def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise StoreError(f"S3 bucket {self.bucket!r} is not usable: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3 store {self.uri} is unreachable: {exc}") from exc

    def _exists(self, full_key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=full_key)
            return True
        except BotoCoreError as exc:
            raise StoreError(f"S3 head {self.bucket}/{full_key} failed: {exc}") from exc
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreError(f"S3 head {self.bucket}/{full_key} failed: {exc}") from exc


def make_s3_client() -> Any:
    """A boto3 S3 client with standard retries and the checksum settings S3-compatible
    stores need (boto3 1.36+ otherwise sends checksums some of them reject)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        # Upload workers x parts in flight per multipart upload, with room to spare.
        max_pool_connections=32,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=10,
        read_timeout=60,
    )
    return boto3.client("s3", config=config)


def open_store(uri: str) -> LocalStore | S3Store:
    """The store named by `uri`: `s3://bucket/prefix` or a local folder path."""
    if uri.startswith("s3://"):
        parts = urlsplit(uri)
        if len(parts.netloc) < 3:
            raise StoreError(f"invalid S3 store {uri!r}: the bucket name needs 3+ characters")
        return S3Store(parts.netloc, parts.path)
    if "://" in uri:
        raise StoreError(f"unsupported store {uri!r}: use a folder path or s3://bucket/prefix")
    return LocalStore(uri)
