"""Rotating WARC files in the spool: captures are appended to one open file per process,
which is closed and handed to the uploader when it reaches the size or age limit or the run
ends."""

from __future__ import annotations

import fcntl
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from archive.core.settings import DEFAULTS
from archive.storage.spool import OPEN_SUFFIX, TMP_PREFIX, Spool
from archive.storage.warc import CaptureRecords, new_record_id, record_groups, warcinfo_record

DEFAULT_WARC_BYTES = DEFAULTS.warc_bytes


@dataclass(frozen=True)
class WarcLocation:
    """Where a capture's first record is: WARC file key, byte offset and length."""

    key: str
    offset: int
    length: int


class WarcFile:
    """Appends capture records to this process's open WARC file in the spool.

    The open file is locked (flock) while written, so a flush in another process can tell a
    live file from one a killed process left behind.
    """

    def __init__(
        self,
        spool: Spool,
        max_bytes: int = DEFAULT_WARC_BYTES,
        max_seconds: float = 0.0,
        info: dict[str, str | None] | None = None,
    ) -> None:
        if max_bytes < 1:
            raise ValueError("the WARC size limit must be positive")
        self.spool = spool
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds  # 0: no age limit
        self._opened = 0.0
        self._file: IO[bytes] | None = None
        self._key: str | None = None
        self._serial = 0
        self._run = f"{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
        # What the warcinfo record of each file says (warc.warcinfo_record); `sources` grows
        # as the run's crawlers open.
        self.info = dict(info or {})
        self.sources: set[str] = set()
        self._warcinfo_id = new_record_id()

    @property
    def warcinfo_id(self) -> str:
        """The WARC-Record-ID of the warcinfo record of the file the next append goes into
        (the open one, or the one it will open)."""
        return self._warcinfo_id

    def append(self, records: CaptureRecords) -> WarcLocation:
        """Write a capture's records; where its first record landed. The bytes reach the OS
        before this returns, so a killed process loses none of them."""
        if self._file is None:
            self._open()
        assert self._file is not None and self._key is not None
        offset = self._file.tell()
        self._file.write(records.data)
        self._file.flush()
        return WarcLocation(self._key, offset, records.first_length)

    def undo(self, location: WarcLocation) -> None:
        """Take back the last append (its catalog rows could not be written), so that records
        the catalog lacks are only ever at the end of a file a killed run left."""
        assert self._file is not None and location.key == self._key
        self._file.truncate(location.offset)
        self._file.seek(location.offset)

    @property
    def full(self) -> bool:
        """Whether the open file has reached the size limit, or has been open `max_seconds`
        (like warcprox's rollover idle time: what it holds reaches the store that soon)."""
        if self._file is None:
            return False
        aged = 0 < self.max_seconds <= time.monotonic() - self._opened
        return aged or self._file.tell() >= self.max_bytes

    def rotate(self) -> str | None:
        """Close the open file and make it ready for upload; its key (None: nothing open)."""
        if self._file is None:
            return None
        key, file = self._key, self._file
        assert key is not None
        self._file = self._key = None
        self._warcinfo_id = new_record_id()  # the next file's
        file.flush()
        os.fsync(file.fileno())
        path = self.spool.path(key)
        os.rename(path.with_name(path.name + OPEN_SUFFIX), path)
        file.close()  # releases the lock after the rename: never seen unlocked and open
        return key

    close = rotate

    def _open(self) -> None:
        now = datetime.now(UTC)
        name = f"wirearchive-{self._run}-{self._serial:05d}.warc.gz"
        self._serial += 1
        key = f"raw/{now:%Y/%m/%d}/{name}"
        path = self.spool.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Locked before it gets its .open name: another process's recovery, looking for
        # unlocked open files, must never see it between its creation and its lock.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
        file = os.fdopen(fd, "wb")
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(tmp, path.with_name(path.name + OPEN_SUFFIX))
        info = self.info | {"sources": ", ".join(sorted(self.sources)) or None}
        file.write(warcinfo_record(name, info, self._warcinfo_id))
        file.flush()
        self._file, self._key, self._opened = file, key, time.monotonic()


def truncate_to_committed(path: Path, committed: set[str]) -> int:
    """Cut an abandoned WARC file back to its captures that the catalog has. A capture is
    appended and committed with nothing in between, so what a killed run never committed
    (records, a torn record) is at the end: the file is cut at the first of it. The length
    kept, 0 when no capture of the file was committed."""
    keep, any_committed = 0, False
    with open(path, "rb") as stream:
        for owner, end in record_groups(stream):
            if owner is not None and owner not in committed:
                break
            keep, any_committed = end, any_committed or owner is not None
    with open(path, "r+b") as file:
        file.truncate(keep if any_committed else 0)
        file.flush()
        os.fsync(file.fileno())
    return keep if any_committed else 0
