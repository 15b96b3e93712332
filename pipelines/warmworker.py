"""Imported by the extraction workers' forkserver before a crawl (pipelines.extract.
start_workers): warms the extractor up once, so that every worker forked from it starts warm.
"""

from pipelines.extraction import warm_up

warm_up()
