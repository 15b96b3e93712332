"""What dedup must know across crawler processes: each article's archived text hash, and
which article is the original of each text. In Redis, so many workers on many machines
decide alike; one process alone keeps this in its catalog (pipelines/dedup.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

PREFIX = "wirearchive:articles"

# Give up the claim to be a text's original, if it is still ours.
_RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
"""


class SharedArticles:
    """Archived article versions and original claims in Redis."""

    def __init__(self, client: redis.Redis, prefix: str = PREFIX) -> None:
        self.client = client
        self.hashes = f"{prefix}:version"  # article id -> its archived version
        self.originals = f"{prefix}:original"  # text hash -> the article that is its original
        self._release = client.register_script(_RELEASE)

    def known_version(self, article_id: str) -> str | None:
        """The article's archived version, archive.storage.documents.article_version (None: not
        archived)."""
        value = self.client.hget(self.hashes, article_id)
        if not value:
            return None
        return value.decode() if isinstance(value, bytes) else value

    def claim(self, content_sha256: str, article_id: str) -> str:
        """The original of this text: `article_id` if no article claimed it first."""
        pipe = self.client.pipeline()
        pipe.hsetnx(self.originals, content_sha256, article_id)
        pipe.hget(self.originals, content_sha256)
        _, owner = pipe.execute()
        return owner.decode()

    def release(self, content_sha256: str, article_id: str) -> None:
        """Give the claim back (the claimant failed to archive)."""
        self._release(keys=[self.originals], args=[content_sha256, article_id])

    def archived(self, article_id: str, version: str) -> None:
        """The article's `version` is archived."""
        self.client.hset(self.hashes, article_id, version)


def shared_articles(url: str) -> SharedArticles:
    """A client of the shared article index in the Redis database at `url` (a run keeps one:
    pipelines/runstate.py); redis is imported only here, so a crawl without Redis does not
    pay for it at start-up."""
    import redis

    return SharedArticles(redis.Redis.from_url(url))
