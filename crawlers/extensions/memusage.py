"""Scrapy's memory guard (MEMUSAGE_LIMIT_MB), measuring this process's own memory."""

from __future__ import annotations

from pathlib import Path

from scrapy.extensions.memusage import MemoryUsage


class OwnMemoryUsage(MemoryUsage):
    """Scrapy's MemoryUsage reads `ru_maxrss`, which on Linux keeps the peak of whatever ran
    in this process before it was exec'd: a crawl started by a process that held a lot of
    memory (a benchmark with its test site in memory, say) would stop at once. This reads
    the high-water mark of this process's own memory instead (VmHWM)."""

    def get_virtual_size(self) -> int:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        return super().get_virtual_size()
