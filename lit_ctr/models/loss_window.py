"""``train/loss`` as the mean over every batch since the loggers last got it."""

from __future__ import annotations

from lightning.pytorch import LightningModule
from torch import Tensor

from lit_ctr.callbacks._common import sends_to_loggers


class LossWindows:
    """Running sums of training losses per metric name, emptied when the loggers get them.

    Logged on the steps Lightning sends to the loggers (``log_every_n_steps``), the value
    covers every batch rather than one in ``log_every_n_steps``. With a progress bar the
    running mean is also logged on the steps between; runs without a bar skip those
    ``self.log`` calls (each has Lightning walk the logged value's state).
    """

    def __init__(self) -> None:
        self._sums: dict[str, tuple[Tensor | float, int]] = {}

    def clear(self) -> None:
        self._sums.clear()

    def log(self, module: LightningModule, name: str, loss: Tensor, rows: int) -> None:
        """Add ``loss`` (a scalar) to ``name``'s window and log the window's mean when due."""
        total, batches = self._sums.pop(name, (0.0, 0))
        total, batches = loss.detach() + total, batches + 1
        # ``_trainer`` (Lightning 2.4-2.6): the public ``module.trainer`` raises when no Trainer
        # is attached (a step run by hand, as in the plain-loop benchmark); there is no public
        # "the trainer, if any".
        trainer = module._trainer
        to_loggers = trainer is None or sends_to_loggers(trainer)
        if to_loggers or (trainer is not None and trainer.progress_bar_callback is not None):
            module.log(name, total / batches, prog_bar=True, batch_size=rows)
        if not to_loggers:
            self._sums[name] = (total, batches)
