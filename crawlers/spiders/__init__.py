"""The spiders, one per kind of source (auto, feed, sitemap, site, wordpress, blogger, urls)."""
