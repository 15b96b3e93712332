"""Imported by the extraction workers' forkserver before a crawl (pipelines.extract.
start_workers): warms the extractor up once, so that every worker forked from it starts warm.
"""

import logging

from pipelines.extraction import warm_up

try:
    warm_up()
except Exception:  # only a head start: the forkserver must live on, its workers start cold
    logging.getLogger(__name__).exception("extraction warm-up failed; workers start cold")
