"""One per crawl run and catalog (the run's session holds it): the open WARC file, the
catalog transaction that indexes it, and the upload of the spool to the store in the
background (after each WARC rotation, every few seconds, and at the end).

Captures are committed in groups: their rows go into one open transaction, committed
COMMIT_DELAY seconds after it was opened (sooner once BATCH_CAPTURES wait for it, or when a
capture asks for it), so that one commit writes the index pages many captures share. The WARC
file is rotated only right after a commit, so its records are always those of committed rows
plus, at its end, those of the open transaction: what recovery cuts off after a kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from archive.storage.catalog import Catalog
from archive.storage.flush import recover
from archive.storage.spool import Spool, Upload, upload
from archive.storage.store import ObjectStore, StoreError
from archive.storage.warc import CaptureRecords
from archive.storage.warcfile import WarcFile, WarcLocation

logger = logging.getLogger(__name__)

COMMIT_DELAY = 0.25  # seconds a transaction stays open for more captures to join it
BATCH_CAPTURES = 32  # captures waiting for a commit that make it happen at once


def spool_dir(db_path: str, setting: str | None) -> Path:
    """The spool folder: the setting, or `<catalog file>.spool/` beside the catalog, one per
    catalog (two catalogs in one folder once shared `spool/`, and uploaded and discarded each
    other's objects). The `spool/` an older version kept beside the catalog becomes the
    first catalog's to open it (renamed); its objects of any other catalog still reach the
    store, where that catalog's `flush` finds them."""
    if setting:
        return Path(setting)
    db = Path(db_path).resolve()
    folder = db.with_name(db.name + ".spool")
    legacy = db.parent / "spool"
    if not folder.exists() and (legacy / "objects").is_dir():
        with contextlib.suppress(OSError):  # another run moved it first
            os.rename(legacy, folder)
    return folder


class Uploader:
    """Writes captures to rotating WARC files in the spool and uploads the spool."""

    def __init__(
        self,
        catalog: Catalog,
        store: ObjectStore,
        spool: Spool,
        warc_bytes: int,
        interval: float = 10.0,
        workers: int = 4,
        commit_delay: float = COMMIT_DELAY,
        warc_seconds: float = 0.0,
        info: dict[str, str | None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.spool = spool
        self.warc = WarcFile(spool, warc_bytes, warc_seconds, info)
        # Told after each upload round, once its rows are committed as no longer pending.
        self.listeners: list[Callable[[Upload], None]] = []
        self.interval = interval
        self.workers = workers
        self.last: Upload | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._outage = False
        self.commit_delay = commit_delay
        self._first: WarcLocation | None = None  # the open transaction's first record
        self._waiters: list[asyncio.Future[None]] = []
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Recover what an earlier killed run left, then upload in the background."""
        recovered, regenerated = recover(self.spool, self.catalog)
        if recovered or regenerated:
            logger.warning(
                "recovered %d WARC files and %d article documents left by an interrupted run",
                recovered,
                regenerated,
            )
        self._task = asyncio.get_running_loop().create_task(self._loop())
        self.kick()

    def begin(self) -> None:
        """Open the transaction the next catalog writes join, unless one is open; it is
        committed within `commit_delay` seconds."""
        if not self.catalog.in_transaction:
            self.catalog.begin()
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.commit_delay, self.commit)

    def prepare(self) -> None:
        """Open the transaction a capture's records and rows go into; a full WARC file is
        first committed and rotated (the transaction holds only whole captures then). What
        the catalog says from here to `append` cannot change before its rows are written:
        the transaction holds the write lock, so no other process writes meanwhile."""
        if self.warc.full:
            self.commit()
        self.begin()

    def append(self, records: CaptureRecords) -> WarcLocation:
        """Append a capture's records to the WARC file, in the open transaction (opened if
        none is): its rows must follow with no await in between, or `undo` it. `prepare`
        first, then build the records: they name the warcinfo of the file they go into,
        and nothing rotates it in between."""
        self.begin()
        location = self.warc.append(records)
        self._first = self._first or location
        return location

    def undo(self, location: WarcLocation) -> None:
        """The rows of the last append could not be written: take its records back. Should
        the failure have rolled back the whole transaction, the captures that were waiting
        for it fail too, and their records go."""
        if self.catalog.in_transaction:
            self.warc.undo(location)
        else:
            self._abandon(RuntimeError("the catalog transaction was rolled back"))

    async def committed(self, now: bool = False) -> None:
        """Wait until the rows written so far are committed (raises if they cannot be);
        `now`: commit them without waiting for more captures to join."""
        if not self.catalog.in_transaction:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if now or len(self._waiters) >= BATCH_CAPTURES:
            self.commit()
        await waiter

    def commit(self) -> None:
        """Commit the open transaction, then rotate the WARC file if it is full."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            self.catalog.commit()
        except Exception as exc:
            logger.exception("committing the catalog failed")
            self._abandon(exc)
            return
        waiters, self._waiters, self._first = self._waiters, [], None
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.written()

    def _abandon(self, exc: BaseException) -> None:
        """Roll back the open transaction and take back every record appended in it; the
        captures waiting for it fail, even when the rollback fails too (a full disk)."""
        waiters, self._waiters, first, self._first = self._waiters, [], self._first, None
        try:
            self.catalog.rollback()
            if first is not None:
                self.warc.undo(first)
        finally:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)

    def written(self) -> None:
        """Rotate the WARC file when it is full; only between transactions."""
        if self.warc.full and not self.catalog.in_transaction:
            self.warc.rotate()
            self.kick()

    def kick(self) -> None:
        """Upload soon."""
        self._wake.set()

    async def stop(self) -> Upload:
        """Commit, close the WARC file and upload everything; what the last round did."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.commit()
        self.warc.close()
        try:
            return await self.round()
        finally:
            self.spool.close()

    async def round(self) -> Upload:
        """Upload what is ready now; rows whose objects are all stored stop being pending."""
        if self.warc.full:  # by age: rotated between rounds only when a capture comes
            self.commit()
        async with self._lock:
            if self._outage:  # one cheap probe, not a retried attempt per waiting object
                try:
                    await asyncio.to_thread(self.store.check)
                except StoreError as exc:
                    self.last = Upload(error=str(exc))
                    return self.last
            keys = await asyncio.to_thread(lambda: sorted(self.spool.ready()))
            result = await asyncio.to_thread(upload, self.spool, self.store, keys, self.workers)
            if result.written:
                await asyncio.to_thread(self.store.sync)
            self.catalog.mark_stored(result.stored)  # then out of the spool: see flush.settle
            if self.catalog.in_transaction:
                self.commit()
            await asyncio.to_thread(self.spool.discard, result.stored)
            if result.error and not self._outage:
                logger.error(
                    "the store is unreachable (%s): objects wait in the spool %s and their "
                    "rows stay pending until it is back (`wirearchive flush`)",
                    result.error,
                    self.spool.root,
                )
            elif not result.error and self._outage:
                logger.warning("the store is reachable again: uploading the spool")
            self._outage = result.error is not None
            self.last = result
        for listener in self.listeners:
            listener(result)
        return result

    async def _loop(self) -> None:
        while True:
            # Not wait_for: on Python 3.11 it loses a cancel (stop) that comes as the event is
            # set, and the loop would go on for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.round()
            except Exception:  # keep uploading: one bad round must not end the loop
                logger.exception("spool upload round failed")
