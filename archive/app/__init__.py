"""The application: the command line, the crawl runner, the demo, ingest, rebuild and export."""
