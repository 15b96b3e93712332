"""The spool: a durable local folder where objects wait until the store has them.

Every object goes through it: WARC files while they are written and until uploaded, article
JSON until uploaded. An outage of the store therefore stops nothing and loses nothing: the
objects stay here, their catalog rows stay pending, and `wirearchive flush` (or the next run)
uploads them. Keys mirror the store's keys under `objects/`.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from archive.storage.store import ObjectStore, StoreError, check_key

OPEN_SUFFIX = ".open"
TMP_PREFIX = ".tmp-"
_STORE_FILE = "STORE"
_CATALOG_FILE = "CATALOG"
_LOCK_FILE = "LOCK"


class SpoolError(Exception):
    """The spool cannot be used as asked."""


class Spool:
    """Objects waiting for the store, as files under `root/objects/KEY`.

    A spool serves one catalog: the bookkeeping of what it holds (pending rows, the captures
    an abandoned WARC file is cut back to) is in that catalog. Given `catalog`, the spool is
    held for it (a shared lock on `LOCK`, its path in `CATALOG`) until `close()` or the
    process ends: runs on the same catalog share it, a run on another catalog is refused."""

    def __init__(self, root: str | Path, store_uri: str, catalog: str | Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.objects = self.root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)
        self._lock: IO[bytes] | None = None
        if catalog is not None:
            self._hold_for(str(Path(catalog).resolve()))
        marker = self.root / _STORE_FILE
        owner = marker.read_text().strip() if marker.exists() else None
        if owner == store_uri:
            return
        if owner is not None and any(self.ready()):
            self.close()
            raise SpoolError(
                f"the spool {self.root} holds objects for the store {owner}, not {store_uri}: "
                f"run `wirearchive --store {owner} flush` first"
            )
        marker.write_text(store_uri + "\n")  # a new spool, or an empty one changing hands

    def _hold_for(self, catalog: str) -> None:
        """Take the shared lock for `catalog`'s runs; claim the spool first (exclusive lock,
        briefly) when its marker names no catalog or another whose runs have all ended and
        whose objects are all gone."""
        marker = self.root / _CATALOG_FILE
        self._lock = lock = open(self.root / _LOCK_FILE, "a+b")  # noqa: SIM115 - held
        while True:
            if _read(marker) == catalog:
                fcntl.flock(lock, fcntl.LOCK_SH)  # waits only for a claim under way
                if _read(marker) == catalog:
                    return
                fcntl.flock(lock, fcntl.LOCK_UN)
                continue
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    time.sleep(0.01)  # another process is claiming it right now
                    continue
                owner = _read(marker)  # held (shared) by runs of this catalog
                if owner == catalog:
                    return
                self.close()
                raise SpoolError(
                    f"the spool {self.root} is in use by a run on the catalog {owner}: a spool "
                    "serves one catalog; give this one its own (WIREARCHIVE_SPOOL)"
                ) from None
            owner = _read(marker)
            if owner is not None and owner != catalog and any(self.ready()):
                self.close()
                raise SpoolError(
                    f"the spool {self.root} holds objects of the catalog {owner}: run "
                    f"`wirearchive --db {owner} flush` first, or give this catalog its own "
                    "spool (WIREARCHIVE_SPOOL)"
                )
            tmp = marker.with_name(TMP_PREFIX + _CATALOG_FILE)
            tmp.write_text(catalog + "\n")
            os.replace(tmp, marker)
            fcntl.flock(lock, fcntl.LOCK_SH)  # not atomic: checked again above

    def close(self) -> None:
        """Let the spool go (another catalog may claim it once no run of this one holds it)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def path(self, key: str) -> Path:
        """Where the object `key` waits."""
        return self.objects / check_key(key)

    def put(self, key: str, data: bytes, sync: bool = True) -> None:
        """Keep `data` under `key`, atomically (rename), and durably unless `sync` is off:
        an object that can be made again from the catalog needs no fsync of its own."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                if sync:
                    file.flush()
                    os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def has(self, key: str) -> bool:
        """Whether `key` waits here, complete or still being written."""
        path = self.path(key)
        return path.exists() or path.with_name(path.name + OPEN_SUFFIX).exists()

    def ready(self) -> Iterator[str]:
        """Keys of complete objects waiting for upload."""
        for path in self.objects.rglob("*"):
            name = path.name
            if (
                path.is_file()
                and not name.startswith(TMP_PREFIX)
                and not name.endswith(OPEN_SUFFIX)
            ):
                yield path.relative_to(self.objects).as_posix()

    def drop_temporaries(self) -> int:
        """Remove the half-written files a killed run left (writes go to a temporary name
        first); only the process holding the spool's lock writes, so none is live. How many."""
        dropped = 0
        for path in self.objects.rglob(f"{TMP_PREFIX}*"):
            path.unlink(missing_ok=True)
            dropped += 1
        return dropped

    def abandoned(self) -> Iterator[tuple[str, Path]]:
        """(key, path) of open WARC files no live process holds: left by a killed run."""
        for path in self.objects.rglob(f"*{OPEN_SUFFIX}"):
            try:
                with open(path, "rb") as file:
                    fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer holds it
            except FileNotFoundError:
                continue  # closed meanwhile
            key = path.relative_to(self.objects).as_posix().removesuffix(OPEN_SUFFIX)
            yield key, path

    def read_range(self, key: str, offset: int, length: int) -> bytes | None:
        """Bytes of a waiting object (closed or open), or None when it is not here."""
        path = self.path(key)
        for candidate in (path, path.with_name(path.name + OPEN_SUFFIX)):
            try:
                with open(candidate, "rb") as file:
                    file.seek(offset)
                    return file.read(length)
            except FileNotFoundError:
                continue
        return None

    def discard(self, keys: Iterable[str]) -> None:
        """Forget objects the store now has."""
        for key in keys:
            self.path(key).unlink(missing_ok=True)


@dataclass
class Upload:
    """What one upload round did."""

    stored: list[str] = field(default_factory=list)  # keys the store has now
    written: int = 0  # objects this round wrote (the rest were there already)
    bytes: int = 0
    error: str | None = None  # why the round stopped early (store unreachable)


def upload(spool: Spool, store: ObjectStore, keys: list[str], workers: int = 4) -> Upload:
    """Put each waiting object into the store, at most `workers` at a time; at the first
    store failure start no more (the rest waits for the next round). Safe from a thread."""
    result = Upload()
    queue = iter(keys)

    def one(key: str) -> tuple[str, bool, int]:
        """(key, whether this put wrote it, its size)."""
        path = spool.path(key)
        content_type = "application/warc" if key.endswith(".warc.gz") else "application/json"
        try:
            size = path.stat().st_size
            return key, store.put_file_if_absent(key, path, content_type), size
        except (FileNotFoundError, StoreError):
            if path.exists():
                raise
            return key, False, 0  # another process stored it and took it out of the spool

    running: set[Future[tuple[str, bool, int]]] = set()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while True:
            while len(running) < max(1, workers) and result.error is None:
                key = next(queue, None)
                if key is None:
                    break
                running.add(pool.submit(one, key))
            if not running:
                return result
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    key, wrote, size = future.result()
                except StoreError as exc:
                    result.error = result.error or str(exc)
                    continue
                result.stored.append(key)
                if wrote:
                    result.written += 1
                    result.bytes += size


def _read(marker: Path) -> str | None:
    try:
        return marker.read_text().strip() or None
    except FileNotFoundError:
        return None


def read_span(store: ObjectStore, spool: Spool | None, key: str, offset: int, length: int) -> bytes:
    """Bytes of a stored object, or of one still waiting in the spool."""
    try:
        return store.get_range(key, offset, length)
    except KeyError:
        data = spool.read_range(key, offset, length) if spool is not None else None
        if data is None:
            raise
        return data
