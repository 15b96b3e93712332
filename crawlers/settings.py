"""Scrapy settings for wirearchive, shared by `scrapy crawl` in the checkout and the CLI.

Every wirearchive setting can also come from the environment variable of the same name.
"""

import os

BOT_NAME = "wirearchive"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Where the archive lives: the SQLite catalog and the object store (a folder or s3://bucket/prefix).
WIREARCHIVE_DB = os.environ.get("WIREARCHIVE_DB", "wirearchive-data/archive.db")
WIREARCHIVE_STORE = os.environ.get("WIREARCHIVE_STORE", "wirearchive-data/objects")
# Objects wait in the spool (default: `spool/` beside the catalog) until the store has them;
# captures go into WARC files rotated at WIREARCHIVE_WARC_BYTES (or once open
# WIREARCHIVE_WARC_SECONDS, if set: `add` uses 1), and the spool is uploaded
# every WIREARCHIVE_UPLOAD_INTERVAL seconds (and at each rotation and the end of a run) by
# WIREARCHIVE_UPLOAD_WORKERS threads.
WIREARCHIVE_SPOOL = os.environ.get("WIREARCHIVE_SPOOL", "")
WIREARCHIVE_WARC_BYTES = int(os.environ.get("WIREARCHIVE_WARC_BYTES", "100000000"))
WIREARCHIVE_WARC_SECONDS = float(os.environ.get("WIREARCHIVE_WARC_SECONDS", "0"))
WIREARCHIVE_UPLOAD_INTERVAL = float(os.environ.get("WIREARCHIVE_UPLOAD_INTERVAL", "10"))
WIREARCHIVE_UPLOAD_WORKERS = int(os.environ.get("WIREARCHIVE_UPLOAD_WORKERS", "4"))
# Many crawler processes on one frontier (crawlers/frontier.py, docs/scaling.md): the Redis
# database they share (redis://HOST:PORT/DB; `wirearchive crawl --redis` sets it), and the
# seconds a worker's requests stay held after its last heartbeat before others take them.
WIREARCHIVE_REDIS = os.environ.get("WIREARCHIVE_REDIS", "")
WIREARCHIVE_REDIS_LEASE = float(os.environ.get("WIREARCHIVE_REDIS_LEASE", "30"))
# Loopback, private, link-local and reserved addresses are refused unless allowed here:
# "1" allows all of them, "127.0.0.0/8,10.0.0.0/8" only those networks.
WIREARCHIVE_ALLOW_PRIVATE = os.environ.get("WIREARCHIVE_ALLOW_PRIVATE", "")
# Extraction worker processes (0: one per core); a page's time limit in seconds, and each
# worker's address-space limit in MB (0: none): past either, the page fails, its worker is
# replaced, and the crawl goes on.
WIREARCHIVE_EXTRACT_WORKERS = int(os.environ.get("WIREARCHIVE_EXTRACT_WORKERS", "0"))
WIREARCHIVE_EXTRACT_TIMEOUT = float(os.environ.get("WIREARCHIVE_EXTRACT_TIMEOUT", "30"))
WIREARCHIVE_EXTRACT_MEMORY_MB = int(os.environ.get("WIREARCHIVE_EXTRACT_MEMORY_MB", "1024"))
# Before a crawl, warm the extractor up once in the process the workers are forked from
# (pipelines/warmworker.py: about 6 s, gained back on a crawl of many pages); "0" skips it.
WIREARCHIVE_WARM_UP = os.environ.get("WIREARCHIVE_WARM_UP", "1") != "0"
# Wire services and their aliases for attribution; None means the built-in list
# (pipelines.wire.DEFAULT_AGENCIES). A dict of canonical name -> list of aliases, or the path
# of a TOML file of `Name = ["Alias", ...]` lines, replaces it.
WIRE_AGENCIES = os.environ.get("WIREARCHIVE_WIRE_AGENCIES") or None

ROBOTSTXT_OBEY = True
USER_AGENT = os.environ.get(
    "WIREARCHIVE_USER_AGENT", "wirearchive/0.1 (+https://github.com/wirearchive/wirearchive)"
)

# Polite defaults; AutoThrottle adapts the delay to each server.
CONCURRENT_REQUESTS = 16
# Items of one response processed at once. Scrapy starts this many asyncio tasks for every
# response's output; an article response yields one item, so its default of 100 only costs.
CONCURRENT_ITEMS = 8
# Per worker process: with N workers on one frontier, a host may get N times this at once.
CONCURRENT_REQUESTS_PER_DOMAIN = int(os.environ.get("WIREARCHIVE_HOST_CONCURRENCY", "4"))
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
# Seconds a page's download may take, all its attempts together: one that times out is
# retried once (crawlers/retryafter.py); other failures up to RETRY_TIMES times.
DOWNLOAD_TIMEOUT = float(os.environ.get("WIREARCHIVE_DOWNLOAD_TIMEOUT", "30"))
DNS_TIMEOUT = 10
RETRY_TIMES = 2

# The crawl process's memory: a warning past half the limit; past the limit Scrapy closes the
# crawl as it would on Ctrl-C (what was archived stays; a --job-dir crawl resumes).
MEMUSAGE_ENABLED = True
MEMUSAGE_LIMIT_MB = int(os.environ.get("WIREARCHIVE_MEMORY_LIMIT_MB", "2048"))
MEMUSAGE_WARNING_MB = MEMUSAGE_LIMIT_MB // 2

# Bounded sizes: Scrapy's default is 1 GiB; this also caps the decompressed body.
DOWNLOAD_MAXSIZE = int(os.environ.get("WIREARCHIVE_MAX_BYTES", str(20 * 1024 * 1024)))
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
URLLENGTH_LIMIT = 2048

# Only http and https: Scrapy would otherwise fetch file:, data:, ftp: and s3: URLs.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

# The address guard resolves and checks every host, on every request and redirect; the
# resolver checks again at connect time so a DNS answer cannot change in between.
# Then the URL ledger skips unchanged posts and makes the rest conditional, the trap guard
# bounds what is left, robots.txt is read per RFC 9309, and retries honour Retry-After.
DOWNLOADER_MIDDLEWARES = {
    "crawlers.addressguard.AddressGuardMiddleware": 50,
    "crawlers.ledger.LedgerMiddleware": 55,
    "crawlers.traps.TrapGuardMiddleware": 60,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.robots.StrictRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.retryafter.RetryAfterMiddleware": 550,
}
# Scrapy 2.19's remote control runs Python sent to a loopback HTTP port (token in a file in the
# user's profile): an archive that fetches hostile pages wants no such door, nor the 0.1 s its
# import (aiohttp) adds to every start. Likewise no telnet console.
EXTENSIONS = {
    "crawlers.runstats.CrawlRecorder": 500,
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.telnet.TelnetConsole": None,
    # The memory limit below, on this process's own peak (crawlers/memusage.py).
    "scrapy.extensions.memusage.MemoryUsage": None,
    "crawlers.memusage.OwnMemoryUsage": 0,
}
REMOTE_CONTROL_ENABLED = False

# Near-duplicate clustering: estimated Jaccard similarity of word shingles at or above the
# threshold puts two articles in one story; unset, pipelines/neardup.py's measured defaults.
WIREARCHIVE_NEAR_THRESHOLD = os.environ.get("WIREARCHIVE_NEAR_THRESHOLD")
WIREARCHIVE_SHINGLE_SIZE = os.environ.get("WIREARCHIVE_SHINGLE_SIZE")

# Crawl-trap bounds (per source and run) and politeness limits.
WIREARCHIVE_HOST_BUDGET = int(os.environ.get("WIREARCHIVE_HOST_BUDGET", "20000"))
WIREARCHIVE_MAX_LISTING_PAGES = int(os.environ.get("WIREARCHIVE_MAX_LISTING_PAGES", "2000"))
WIREARCHIVE_SITE_DEPTH = int(os.environ.get("WIREARCHIVE_SITE_DEPTH", "3"))
WIREARCHIVE_MAX_RETRY_AFTER = float(os.environ.get("WIREARCHIVE_MAX_RETRY_AFTER", "300"))
# The crawls row a run reports into (set by `wirearchive crawl`; else each run makes its own).
WIREARCHIVE_CRAWL_ID = None
TWISTED_DNS_RESOLVER = "crawlers.addressguard.GuardedResolver"

ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.dedup.DedupPipeline": 200,
    "pipelines.archive.ArchivePipeline": 300,
}

TELNETCONSOLE_ENABLED = False
LOG_LEVEL = os.environ.get("WIREARCHIVE_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
