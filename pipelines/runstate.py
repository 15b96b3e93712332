"""What the pipelines of every crawler of a run on one catalog share: dedup decisions taken
but not yet in the catalog, and the pages being extracted now. Kept in the run's session
(archive/storage/session.py), made at first ask."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from archive.storage.session import ArchiveSession


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


def run_state(session: ArchiveSession) -> RunState:
    """The shared state of the run `session` belongs to."""
    return session.slot(RunState)
