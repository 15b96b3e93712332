"""The bottom layer: what every other part of wirearchive may use (settings, shared types).

Nothing here imports crawlers, pipelines or the rest of archive."""
