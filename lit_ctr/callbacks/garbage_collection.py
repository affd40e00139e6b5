"""Keep Python's full garbage collections out of training steps.

A process that has imported torch, Lightning and polars tracks over 400,000 objects
before it builds a model, and a full (generation 2) collection walks all of them. A fresh
Trainer process runs one inside its first epoch, 0.20-0.21 s on a 2-core machine; a plain
PyTorch loop allocates too few objects to set one off
(``bench/throughput/trainer_overhead.py``). So :class:`FreezeGarbageCollection` runs one
full collection when ``fit`` starts and freezes the survivors (``gc.freeze``): later
collections skip them, and DataLoader workers forked afterwards share those pages instead
of copying them. They are unfrozen when ``fit`` ends. The ``lit-ctr`` command adds it to
every run (``gc_freeze:`` in a config).
"""

from __future__ import annotations

import gc

from lightning.pytorch import Callback, LightningModule, Trainer

_frozen_by_us = False


def freeze_for_fit() -> None:
    """Collect, then freeze every object tracked so far (left alone if someone else froze)."""
    global _frozen_by_us
    if _frozen_by_us:  # an earlier fit ended in an exception before unfreezing
        gc.unfreeze()
        _frozen_by_us = False
    if gc.get_freeze_count():
        return  # the application freezes objects itself: not ours to change
    gc.collect()
    gc.freeze()
    _frozen_by_us = True


def unfreeze_after_fit() -> None:
    """Undo :func:`freeze_for_fit`, so the objects of this fit can be collected again."""
    global _frozen_by_us
    if _frozen_by_us:
        gc.unfreeze()
        _frozen_by_us = False


class FreezeGarbageCollection(Callback):
    """Freeze the objects that exist when ``fit`` starts out of garbage collection, until it ends."""

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        freeze_for_fit()

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        unfreeze_after_fit()

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        unfreeze_after_fit()
