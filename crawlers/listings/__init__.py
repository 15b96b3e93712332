"""Listing parsers: feeds, sitemaps and the platforms' own APIs, each yielding Entry records."""
