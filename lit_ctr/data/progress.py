"""Progress of long work as log lines: how much of a known total is done, the rate and
an ETA, for preprocessing (bytes of the input files read) and the synthetic generator
(rows written). One line every ``PROGRESS_SECONDS``, never a redrawn bar, so logs of
runs under ``nohup`` or CI stay short."""

from __future__ import annotations

import time

PROGRESS_SECONDS = 10.0
"""Seconds between progress lines."""


def duration(seconds: float) -> str:
    """``42s``, ``3m05s`` or ``2h07m``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def size(num_bytes: float) -> str:
    """``512 B``, ``3.4 MB``, ``1.2 GB`` (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB"):
        if num_bytes < 1000 or unit == "GB":
            return f"{num_bytes:.0f} {unit}" if unit == "B" else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1000
    return f"{num_bytes:.1f} TB"  # pragma: no cover - the loop returns at GB


def eta(done: float, total: float, elapsed: float) -> str:
    """``ETA 3m05s`` from the share done so far and the time it took (``ETA ?`` before any)."""
    if done <= 0 or total <= 0:
        return "ETA ?"
    return f"ETA {duration(elapsed * max(total - done, 0) / done)}"


class Progress:
    """Says every ``PROGRESS_SECONDS`` how far a piece of work is: call :meth:`due`, and
    when it is true log :meth:`share` of the work with the ETA."""

    def __init__(self, total: float, every: float | None = None) -> None:
        self.total = total
        self.every = PROGRESS_SECONDS if every is None else every
        self.start = self.last = time.perf_counter()

    def due(self) -> bool:
        """Whether a progress line is due now (and, when it is, the clock restarts)."""
        now = time.perf_counter()
        if now - self.last < self.every:
            return False
        self.last = now
        return True

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def share(self, done: float) -> str:
        """``37% … ETA 1m10s``: the percentage of ``total`` that ``done`` is, and the ETA."""
        percent = 100 * done / self.total if self.total > 0 else 100.0
        return f"{percent:.0f}%, {eta(done, self.total, self.elapsed)}"
