"""Storage: the object store, the local spool, WARC files and the SQLite catalog."""
