"""One progress line on stderr, rewritten in place, when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

# What long-running work reports: (done, total) of its current phase.
Report = Callable[[int, int], None]

MIN_INTERVAL = 0.1  # seconds between redraws; the last step of a phase is always drawn


class ProgressLine:
    """`command: 1,234 of 5,000 articles` on a terminal, nothing otherwise.

    `phase(unit)` returns the Report for one phase of the work, or None when stderr is not a
    terminal (so work that only serves the line, such as counting, can be skipped); leaving
    the context ends the line so that later output starts on a line of its own.
    """

    def __init__(self, command: str, stream: TextIO | None = None) -> None:
        self.command = command
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._drawn = False
        self._last = 0.0

    def phase(self, unit: str) -> Report | None:
        """The Report that draws `done of total unit`, None when not on a terminal."""
        if not self.enabled:
            return None

        def report(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - self._last < MIN_INTERVAL:
                return
            self._last = now
            self.stream.write(f"\r\033[K{self.command}: {done:,} of {total:,} {unit}")
            self.stream.flush()
            self._drawn = True

        return report

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
