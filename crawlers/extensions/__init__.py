"""Scrapy extensions: per-source run statistics and the memory watch."""
