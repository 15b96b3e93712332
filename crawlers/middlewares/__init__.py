"""Downloader and spider middlewares (address guard, ledger, traps, robots.txt, Retry-After)
and the building of Capture items from responses and failures."""
