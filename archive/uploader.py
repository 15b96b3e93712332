"""One per crawling process and catalog: the open WARC file, and the upload of the spool to
the store in the background (after each WARC rotation, every few seconds, and at the end)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from archive.catalog import Catalog
from archive.flush import recover
from archive.spool import Spool, Upload, upload
from archive.store import ObjectStore, StoreError
from archive.warcfile import WarcFile

logger = logging.getLogger(__name__)


def spool_dir(db_path: str, setting: str | None) -> Path:
    """The spool folder: the setting, or `spool/` beside the catalog."""
    return Path(setting) if setting else Path(db_path).resolve().parent / "spool"


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
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.spool = spool
        self.warc = WarcFile(spool, warc_bytes)
        self.interval = interval
        self.workers = workers
        self.last: Upload | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._outage = False

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

    def written(self) -> None:
        """A capture was appended: rotate the WARC file when it is full."""
        if self.warc.full:
            self.warc.rotate()
            self.kick()

    def kick(self) -> None:
        """Upload soon."""
        self._wake.set()

    async def stop(self) -> Upload:
        """Close the WARC file and upload everything; what the last round did."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.warc.close()
        return await self.round()

    async def round(self) -> Upload:
        """Upload what is ready now; rows whose objects are all stored stop being pending."""
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
            return result

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.round()
            except Exception:  # keep uploading: one bad round must not end the loop
                logger.exception("spool upload round failed")
