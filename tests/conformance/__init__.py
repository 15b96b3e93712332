"""The conformance suite: real blog platforms (WordPress, Hugo, Pelican) run on loopback, filled
with posts made from the corpus pages, crawled by wirearchive, and checked post by post."""
