"""One frontier for many crawler processes: scrapy-redis's scheduler and seen-set, with leases.

With `WIREARCHIVE_REDIS` set, every source's requests live in Redis under
`wirearchive:<source>:<run>:…`: a priority queue (scrapy-redis's), a seen-set of request
fingerprints (scrapy-redis's dupefilter), and one hash per worker of the requests it has taken
but not finished. A worker takes a request by moving it from the queue into its hash in one
step, and removes it only when Scrapy is done with it: downloaded, its callback's output
scheduled, and its items through every pipeline. A worker refreshes a heartbeat key while it
runs; when one stops refreshing (killed, machine lost), any other worker moves that worker's
unfinished requests back to the queue, so nothing it held is lost.

A run is the life of one frontier: the first worker of a source starts one, the others join it
(`wirearchive:<source>:run` names it), and it ends when every worker that has finished seeding
sees an empty queue and no unfinished request anywhere. Every worker seeds (runs the spider's
start requests); the shared seen-set admits each URL once, entry points included, so several
workers starting at once enqueue each seed once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from archive.core.errors import ConfigError

if TYPE_CHECKING:
    import redis
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

PREFIX = "wirearchive"
POLL_INTERVAL = 0.25  # seconds between looks at an empty queue
RUN_TTL = 24 * 3600  # a finished run's keys are kept a day, for inspection
# Sent by the seed marker when a spider's start requests are all scheduled.
seeding_done = object()

# Take the best request: move it from the queue to this worker's hash (field: the request,
# value: its score) in one step.
_TAKE = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #found == 0 then return false end
redis.call('ZREM', KEYS[1], found[1])
redis.call('HSET', KEYS[2], found[1], found[2])
return found[1]
"""
# Give back every unfinished request of workers whose heartbeat has lapsed; then how much
# work is left: queued requests and unfinished ones of live workers.
_SETTLE = """
local queue, workers, base, alive = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local left = redis.call('ZCARD', queue)
for _, worker in ipairs(redis.call('SMEMBERS', workers)) do
  local held = base .. ':held:' .. worker
  if redis.call('EXISTS', alive .. worker) == 0 then
    local entries = redis.call('HGETALL', held)
    for i = 1, #entries, 2 do
      redis.call('ZADD', queue, entries[i + 1], entries[i])
    end
    left = left + #entries / 2
    redis.call('DEL', held)
    redis.call('SREM', workers, worker)
  else
    left = left + redis.call('HLEN', held)
  end
end
return left
"""
# End the run if it is still the source's current one.
_END = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


def check_redis(url: str) -> None:
    """Raise ConfigError unless the Redis server at `url` (a checked WIREARCHIVE_REDIS or
    --redis value) answers."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigError(f"cannot reach Redis at {url}: {exc}") from None


def worker_name() -> str:
    """This process's name in the frontier: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue, whose pops are held by one worker until finished."""

    def __init__(self, server: redis.Redis, spider: Spider, key: str, held_key: str) -> None:
        super().__init__(server, spider, key)
        self.held_key = held_key
        self._take = server.register_script(_TAKE)

    def pop(self, timeout: int = 0) -> tuple[Request, bytes] | None:
        """The best request and its encoding (to finish it with), or None."""
        data = self._take(keys=[self.key, self.held_key])
        return (self._decode_request(data), data) if data else None

    def finish(self, encoded: list[bytes]) -> None:
        """These requests are done with."""
        if encoded:
            self.server.hdel(self.held_key, *encoded)


class RedisFrontier(Scheduler):
    """The scrapy-redis scheduler with leased requests and run life-cycle (module docstring)."""

    def __init__(self, server: redis.Redis, crawler: Crawler, **kwargs: Any) -> None:
        super().__init__(server, persist=True, **kwargs)
        self.crawler = crawler
        self.stats = crawler.stats
        settings = crawler.settings
        self.lease = settings.getfloat("WIREARCHIVE_REDIS_LEASE")
        self.seed_only = settings.getbool("WIREARCHIVE_SEED_ONLY")
        self.worker = worker_name()
        self.run = ""  # the run this worker joined; set by open(), like base
        self.base = ""
        self.seeded = False
        self.held: dict[int, tuple[Request, bytes]] = {}
        self._settle = server.register_script(_SETTLE)
        self._end = server.register_script(_END)
        self._beat = threading.Event()
        self._beater: threading.Thread | None = None
        self._next_settle = 0.0
        self._left = 1
        self._waking = False
        crawler.signals.connect(self._seeding_done, signal=seeding_done)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisFrontier:
        from scrapy_redis.connection import get_redis_from_settings

        server = get_redis_from_settings(crawler.settings)
        server.ping()
        return cls(server, crawler)

    # -- Scrapy's scheduler interface -------------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        source = spider.source.name  # type: ignore[attr-defined]
        self.run = self._join(source)
        self.base = f"{PREFIX}:{source}:{self.run}"
        self.queue = LeasedQueue(
            self.server, spider, f"{self.base}:requests", f"{self.base}:held:{self.worker}"
        )
        self.df = RFPDupeFilter(self.server, key=f"{self.base}:seen")
        self.server.sadd(f"{self.base}:workers", self.worker)
        self._heartbeat()
        self._beater = threading.Thread(target=self._beating, daemon=True, name="frontier")
        self._beater.start()
        self.stats.set_value("frontier/run", self.run)
        logger.info("worker %s joined run %s of %s", self.worker, self.run, source)

    def close(self, reason: str) -> None:
        self._finish_done()
        # Stop beating: the settling below then gives back what this worker still holds, as
        # any worker would for a dead one.
        self._beat.set()
        if self._beater is not None:
            self._beater.join()
        self.server.delete(self._alive_key)
        self._next_settle = 0.0
        if not self.seed_only and not self.has_pending_requests():
            source = self.spider.source.name  # type: ignore[attr-defined]
            self._end(keys=[f"{PREFIX}:{source}:run"], args=[self.run])
            logger.info("run %s of %s is complete", self.run, source)
            for suffix in ("requests", "seen", "workers", "seeded"):
                self.server.expire(f"{self.base}:{suffix}", RUN_TTL)
        self.server.srem(f"{self.base}:workers", self.worker)

    def enqueue_request(self, request: Request) -> bool:
        # Entry points are requested with dont_filter, but with many workers each seed must
        # still be queued once: only a retry of a request is let past the seen-set.
        retry = request.dont_filter and "retry_times" in request.meta
        if not retry and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        if self.seed_only:
            return None
        self._finish_done()
        taken = self.queue.pop()
        if taken is None:
            self._look_again()
            return None
        request, encoded = taken
        self.held[id(request)] = (request, encoded)
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self.seed_only:
            return False
        self._finish_done()
        now = time.monotonic()
        if now >= self._next_settle:
            self._next_settle = now + 1.0
            seeded = self.seeded or bool(self.server.exists(f"{self.base}:seeded"))
            left = self._settle(
                keys=[self.queue.key, f"{self.base}:workers"],
                args=[self.base, f"{PREFIX}:alive:"],
            )
            self._left = int(left) if seeded else max(1, int(left))
        return self._left > 0

    # -- internals --------------------------------------------------------------------------

    @property
    def _alive_key(self) -> str:
        return f"{PREFIX}:alive:{self.worker}"

    def _join(self, source: str) -> str:
        """The source's current run, started by this worker if there is none."""
        pointer = f"{PREFIX}:{source}:run"
        fresh = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:6]}"
        if self.server.set(pointer, fresh, nx=True):
            return fresh
        current = self.server.get(pointer)
        return current.decode() if current else self._join(source)

    def _engine_slot(self) -> Any:
        """The engine's slot: the requests it has in progress, and its wake-up call. Scrapy
        has no public hook for "done with a request" (downloaded, callback output scheduled,
        items through the pipelines); leaving the slot is exactly that."""
        engine = self.crawler.engine
        return getattr(engine, "_slot", None) if engine else None

    def _look_again(self) -> None:
        """The queue was empty: ask the engine to look again soon, not in its 5 s heartbeat,
        for other workers may be filling it."""
        slot = self._engine_slot()
        if slot is None or self._waking:
            return
        from twisted.internet import reactor

        def wake() -> None:
            self._waking = False
            slot.nextcall.schedule()

        self._waking = True
        reactor.callLater(POLL_INTERVAL, wake)  # type: ignore[arg-type]  # zope method seen as unbound

    def _finish_done(self) -> None:
        """Finish the held requests Scrapy's engine no longer has in progress."""
        slot = self._engine_slot()
        if not self.held or slot is None:
            return
        active = {id(r) for r in slot.inprogress}
        done = [key for key in self.held if key not in active]
        self.queue.finish([self.held.pop(key)[1] for key in done])

    def _seeding_done(self, spider: Spider) -> None:
        if spider is self.spider:
            self.seeded = True
            self.server.set(f"{self.base}:seeded", 1)

    def _heartbeat(self) -> None:
        self.server.set(self._alive_key, self.worker, px=int(self.lease * 1000))

    def _beating(self) -> None:
        while not self._beat.wait(self.lease / 4):
            try:
                self._heartbeat()
            except Exception:  # a Redis hiccup: try again next beat
                logger.exception("frontier heartbeat failed")


class SeedMarker:
    """Spider middleware: tell the frontier when the spider's start requests are scheduled."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeedMarker:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for request in start:
            yield request
        self.crawler.signals.send_catch_log(seeding_done, spider=self.crawler.spider)
