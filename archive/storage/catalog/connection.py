"""Opening the catalog file: WAL mode, the busy timeout, the schema migrated; write
transactions (the only place outside migrations that says BEGIN, COMMIT, ROLLBACK)."""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from archive.storage.catalog.migrations import migrate

BUSY_TIMEOUT_MS = 30_000


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk under the catalog or the spool is full: SQLite's
    SQLITE_FULL, or ENOSPC (EDQUOT: a quota, as full) from a file write."""
    if isinstance(exc, sqlite3.OperationalError):
        return "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction that will write: `BEGIN IMMEDIATE`, which takes the write lock at once
    (waiting for other writers up to the busy timeout), so that what it reads cannot change
    before it writes; a savepoint inside an open transaction. (sqlite-utils' `atomic()` says
    `BEGIN`: its first write after a read fails at once with "database is locked" when another
    process wrote in between, whatever the busy timeout.)"""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


class CatalogError(Exception):
    """The catalog file cannot be opened: not a SQLite file, a folder, unreadable."""


class Connection:
    """One SQLite connection to the catalog; what the table modules build on."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if path.is_dir():
            raise CatalogError(f"cannot open the catalog {path}: it is a folder, not a file")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self.db = Database(path)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.enable_wal()
            self.db.execute("PRAGMA synchronous = NORMAL")
            # Statements that open a transaction of their own take the write lock first too.
            self.db.conn.isolation_level = "IMMEDIATE"
            self.schema_version = migrate(self.db)
        except sqlite3.DatabaseError as exc:  # not a SQLite file, unreadable, ...
            raise CatalogError(f"cannot open the catalog {path}: {exc}") from None

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on the connection."""
        return self.db.conn.in_transaction

    def begin(self) -> None:
        """Open a write transaction (`BEGIN IMMEDIATE`: the write lock at once, see
        `write_transaction`) that later statements join until `commit` or `rollback`."""
        self.db.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the open transaction, if one is open."""
        if self.in_transaction:
            self.db.conn.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction, if one is open."""
        if self.in_transaction:
            self.db.conn.execute("ROLLBACK")

    def _rows(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Rows as dicts, straight from the connection: the pipelines' hot path, without
        sqlite-utils' savepoint around every read."""
        cursor = self.db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _upsert(self, table: str, row: dict[str, Any], pk: str) -> None:
        """Insert or update one row by its primary key; lists and dicts stored as JSON."""
        names = list(row)
        values = [json.dumps(v) if isinstance(v, list | dict) else v for v in row.values()]
        updates = ", ".join(f"[{n}] = excluded.[{n}]" for n in names if n != pk)
        self.db.conn.execute(
            f"insert into [{table}] ({', '.join(f'[{n}]' for n in names)}) "
            f"values ({', '.join('?' for _ in names)}) on conflict([{pk}]) do update set {updates}",
            values,
        )


def decoded(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """An article row with its JSON columns (categories, tags, listing) decoded."""
    if row is None:
        return None
    for key in ("categories", "tags", "listing"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row
