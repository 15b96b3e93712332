"""What the pipelines of every crawler of a run on one catalog share: dedup decisions taken
but not yet in the catalog, the pages being extracted now, the Redis client of the shared
article index. Kept in the run's session (archive/storage/session.py), made at first ask."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from archive.storage.session import ArchiveSession
from pipelines.sharedindex import SharedArticles, shared_articles


@dataclass
class RunState:
    """In-flight identity claims and extractions of one run."""

    version_of_id: dict[str, str] = field(default_factory=dict)
    id_of_hash: dict[str, str] = field(default_factory=dict)
    # Articles being archived now: a duplicate waits for its original's outcome.
    in_flight: dict[str, asyncio.Future[bool]] = field(default_factory=dict)
    # Pages being extracted now (ExtractPipeline): while there are some, the archive stage
    # lets its captures wait to be committed with theirs.
    extracting: int = 0
    # The run's clients of the shared article index, by Redis URL (many crawler processes).
    redis_articles: dict[str, SharedArticles] = field(default_factory=dict)

    def shared_articles(self, url: str | None) -> SharedArticles | None:
        """The run's client of the shared article index at `url` (None: no Redis)."""
        if url is None:
            return None
        if url not in self.redis_articles:
            self.redis_articles[url] = shared_articles(url)
        return self.redis_articles[url]


def run_state(session: ArchiveSession) -> RunState:
    """The shared state of the run `session` belongs to."""
    return session.slot(RunState)
