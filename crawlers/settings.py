"""Scrapy settings for wirearchive, shared by `scrapy crawl` in the checkout and the CLI.

The wirearchive settings (where the archive lives, its limits: every WIREARCHIVE_* variable)
are declared in archive/core/settings.py and listed in docs/configuration.md. Here they are
read from the environment and checked, and given to Scrapy under their Scrapy names
(WIREARCHIVE_DB, ..., and USER_AGENT, DOWNLOAD_TIMEOUT, LOG_LEVEL and the like); the CLI puts
the values it read when its command started over them (archive/app/runner.py).
"""

import sys

from archive.core.settings import SettingsError, from_environ, scrapy_values

try:
    _wirearchive = from_environ()
except SettingsError as exc:  # `scrapy crawl` with a bad variable: one line, as the CLI says it
    sys.stderr.write(f"Error: {exc}\n")
    raise SystemExit(2) from None
globals().update(scrapy_values(_wirearchive))

BOT_NAME = "wirearchive"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

ROBOTSTXT_OBEY = True

# Polite defaults; AutoThrottle adapts the delay to each server.
CONCURRENT_REQUESTS = 16
# Items of one response processed at once. Scrapy starts this many asyncio tasks for every
# response's output; an article response yields one item, so its default of 100 only costs.
CONCURRENT_ITEMS = 8
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
# A page's download (DOWNLOAD_TIMEOUT: WIREARCHIVE_DOWNLOAD_TIMEOUT) that times out is
# retried once (crawlers/middlewares/retryafter.py); other failures up to RETRY_TIMES times.
DNS_TIMEOUT = 10
RETRY_TIMES = 2

# The crawl process's memory: a warning past half the limit; past the limit Scrapy closes the
# crawl as it would on Ctrl-C (what was archived stays; a --job-dir crawl resumes).
MEMUSAGE_ENABLED = True
MEMUSAGE_WARNING_MB = _wirearchive.memory_limit_mb // 2  # the limit: WIREARCHIVE_MEMORY_LIMIT_MB

# Bounded sizes: Scrapy's default is 1 GiB; DOWNLOAD_MAXSIZE (WIREARCHIVE_MAX_BYTES) also caps
# the decompressed body.
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
URLLENGTH_LIMIT = 2048

# Only http and https: Scrapy would otherwise fetch file:, data:, ftp: and s3: URLs. Those
# through Scrapy's HTTP/1.1 handler, which here also keeps each response as received for its
# WARC record (crawlers/handlers.py).
DOWNLOAD_HANDLERS = {
    "http": "crawlers.handlers.WireDownloadHandler",
    "https": "crawlers.handlers.WireDownloadHandler",
    "file": None,
    "data": None,
    "ftp": None,
    "s3": None,
}

# The address guard resolves and checks every host, on every request and redirect; the
# resolver checks again at connect time so a DNS answer cannot change in between.
# Then the URL ledger skips unchanged posts and makes the rest conditional, the trap guard
# bounds what is left, robots.txt is read per RFC 9309, and retries honour Retry-After.
DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.addressguard.AddressGuardMiddleware": 50,
    "crawlers.middlewares.ledger.LedgerMiddleware": 55,
    "crawlers.middlewares.traps.TrapGuardMiddleware": 60,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.middlewares.robots.StrictRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.retryafter.RetryAfterMiddleware": 550,
}
# Scrapy 2.19's remote control runs Python sent to a loopback HTTP port (token in a file in the
# user's profile): an archive that fetches hostile pages wants no such door, nor the 0.1 s its
# import (aiohttp) adds to every start. Likewise no telnet console.
EXTENSIONS = {
    "crawlers.extensions.runstats.CrawlRecorder": 500,
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.telnet.TelnetConsole": None,
    # The memory limit below, on this process's own peak (crawlers/extensions/memusage.py).
    "scrapy.extensions.memusage.MemoryUsage": None,
    "crawlers.extensions.memusage.OwnMemoryUsage": 0,
}
REMOTE_CONTROL_ENABLED = False

TWISTED_DNS_RESOLVER = "crawlers.middlewares.addressguard.GuardedResolver"

ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.dedup.DedupPipeline": 200,
    "pipelines.archive.ArchivePipeline": 300,
}

TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
