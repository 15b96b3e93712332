"""One crawl run's hold on one catalog: its one connection, the uploader (the open WARC file
and the spool upload), and whatever state the run's components share, for every crawler of
the run. The crawl runner builds it, hands it to each crawler (`attach`), and closes it once
when they have all ended; under plain `scrapy crawl` the first component that asks for it
(`session_of`) builds one for its crawler, closed when that crawler's engine stops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from archive.storage.catalog import Catalog
from archive.storage.uploader import Uploader

T = TypeVar("T")

# The crawler attribute a session is handed over in.
ATTRIBUTE = "wirearchive_session"


class ArchiveSession:
    """The catalog connection, the uploader and the shared state of one run on one catalog."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self._catalog: Catalog | None = None
        self.uploader: Uploader | None = None
        # Why the run's last upload round stopped early (the store failed), or None: what a
        # row still pending after the run is told to be waiting for. Set when the uploader stops.
        self.upload_error: str | None = None
        self._uploader_users = 0
        self._stopped: Uploader | None = None  # the uploader, once stopped
        self.closed = False
        self._slots: dict[type, Any] = {}

    def __repr__(self) -> str:
        return f"<ArchiveSession {self.db_path}>"

    @property
    def catalog(self) -> Catalog:
        """The run's one connection to the catalog, opened at first use."""
        if self.closed:
            raise RuntimeError(f"{self!r} is closed")
        if self._catalog is None:
            self._catalog = Catalog(self.db_path)
        return self._catalog

    def slot(self, kind: type[T]) -> T:
        """The run's one `kind()`, made at first ask: state the components above storage
        share (pipelines/runstate.py), kept here without storage knowing what it is."""
        if kind not in self._slots:
            self._slots[kind] = kind()
        value: T = self._slots[kind]
        return value

    def use_uploader(self, make: Callable[[], Uploader]) -> Uploader:
        """The run's uploader, made by `make` and started (in the running event loop) for its
        first user; each user gives it back with `release_uploader`."""
        if self.uploader is None:
            self.uploader = make()
            self.uploader.start()
        self._uploader_users += 1
        return self.uploader

    async def release_uploader(self) -> None:
        """One user is done with the uploader; the last stops it (commit, upload what is
        left) while its crawler closes, as the last archive stage did before sessions."""
        self._uploader_users -= 1
        if self._uploader_users == 0:
            await self._stop_uploader()

    async def _stop_uploader(self) -> None:
        uploader = self.uploader
        if uploader is not None and uploader is not self._stopped:
            self._stopped = uploader
            self.upload_error = (await uploader.stop()).error

    async def aclose(self) -> None:
        """Stop the uploader if it still runs, then commit and close the catalog; once:
        closing again does nothing."""
        if self.closed:
            return
        try:
            await self._stop_uploader()
        finally:
            self.close()

    def close(self) -> None:
        """Commit and close the catalog (an uploader still running, its event loop gone with a
        forced stop, is left as a killed run leaves it: to the next run's recovery)."""
        if self.closed:
            return
        self.closed = True
        if self._catalog is not None:
            try:
                self._catalog.commit()
            finally:
                self._catalog.close()


def attach(crawler: Any, session: ArchiveSession) -> None:
    """Hand `session` to `crawler`, before it starts: its components find it in
    `from_crawler` (`session_of`)."""
    setattr(crawler, ATTRIBUTE, session)


def session_of(crawler: Any) -> ArchiveSession:
    """The session the runner handed to `crawler`; without a runner (`scrapy crawl`), one of
    its own, made now and closed when its engine stops."""
    session: ArchiveSession | None = getattr(crawler, ATTRIBUTE, None)
    if session is None:
        from scrapy import signals

        session = ArchiveSession(crawler.settings.get("WIREARCHIVE_DB"))
        attach(crawler, session)
        crawler.signals.connect(session.aclose, signal=signals.engine_stopped, weak=False)
    return session
