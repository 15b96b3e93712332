"""The SQLite catalog: an index of the object store that can be rebuilt from it.

`Catalog` is one connection (connection.py: WAL, busy timeout, migrations, write
transactions) with the methods of each group of tables mixed in: articles and revisions,
search, captures, pending objects, clusters, the URL ledger, crawls."""

from __future__ import annotations

from archive.storage.catalog.articles import Articles
from archive.storage.catalog.connection import (
    BUSY_TIMEOUT_MS,
    CatalogError,
    disk_full,
    write_transaction,
)
from archive.storage.catalog.crawls import COUNT_COLUMNS, OUTCOME_COUNTS, Crawls
from archive.storage.catalog.ledger import Ledger
from archive.storage.catalog.search import Search

__all__ = [
    "BUSY_TIMEOUT_MS",
    "COUNT_COLUMNS",
    "OUTCOME_COUNTS",
    "Catalog",
    "CatalogError",
    "disk_full",
    "write_transaction",
]


class Catalog(Articles, Search, Ledger, Crawls):
    """Articles, captures and search over one SQLite file (WAL mode, versioned schema)."""
