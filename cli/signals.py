"""SIGTERM and SIGINT end a run with a non-zero status (143, 130) and one line.

Lightning stops a fit on SIGTERM at the end of the running batch (checkpoints already
written are kept) and then raises ``SIGTERMException``, a ``SystemExit`` whose status is
0: a scheduler (SLURM, Kubernetes) would count a killed run as done. On SIGINT it exits
with status 1. :class:`SignalWatch` records which signal arrived so the command ends with
``128 + signal``; outside a Trainer run (reading and encoding the data), SIGTERM raises
:class:`Terminated`, so the cache's temporary folder is removed on the way out.
"""

from __future__ import annotations

import contextlib
import signal
from types import FrameType
from typing import Any


class Terminated(BaseException):
    """SIGTERM arrived while no Trainer was running (a BaseException, like KeyboardInterrupt,
    so that no ``except Exception`` swallows it)."""


class SignalWatch:
    """Install on entry: remembers the last SIGTERM/SIGINT; restores the handlers on exit."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> SignalWatch:
        for signum, handler in ((signal.SIGTERM, self._on_sigterm), (signal.SIGINT, self._on_sigint)):
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                self._previous[signum] = signal.signal(signum, handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        # During fit/validate/test/predict Lightning installs its own SIGTERM handler, which
        # calls this one as well and stops at the end of the batch: nothing to raise here.
        if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
            raise Terminated

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        raise KeyboardInterrupt

    @property
    def status(self) -> int:
        """The exit status for the signal received: 128 + its number."""
        return 128 + int(self.received or 0)

    def message(self) -> str:
        name = signal.Signals(self.received).name if self.received else "a signal"
        return (
            f"stopped by {name} (exit status {self.status}); checkpoints of finished epochs are kept: "
            "resume a fit with --ckpt_path last"
        )
