"""Dedup decisions taken in this process but not yet in the catalog, shared by every crawler
of the process (one per source) that writes to the same catalog."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunState:
    """In-flight identity claims for one catalog."""

    version_of_id: dict[str, str] = field(default_factory=dict)
    id_of_hash: dict[str, str] = field(default_factory=dict)
    # Articles being archived now: a duplicate waits for its original's outcome.
    in_flight: dict[str, asyncio.Future[bool]] = field(default_factory=dict)
    # The process's WARC file and spool upload (archive.storage.uploader.Uploader), and its users.
    uploader: Any = None
    uploader_users: int = 0
    # Why the last upload round of the run stopped early (the store failed), or None: what
    # a row still pending after the run is told to be waiting for.
    upload_error: str | None = None


_STATES: dict[str, RunState] = {}


def run_state(db_path: str) -> RunState:
    """The shared state for the catalog at `db_path`."""
    return _STATES.setdefault(db_path, RunState())
