"""Early stopping that waits out epochs whose monitored value is undefined."""

from __future__ import annotations

import math

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import EarlyStopping


class NaNSkippingEarlyStopping(EarlyStopping):
    """:class:`~lightning.pytorch.callbacks.EarlyStopping` that skips a check whose
    monitored value is NaN instead of stopping (``check_finite``) or counting it as no
    improvement.

    ``val/auc`` is NaN when the validation split holds one class: the AUC is undefined
    there, which says nothing about whether the model improved. Infinite values and every
    other argument behave as in Lightning's class. The ``lit-ctr`` command uses it for
    ``early_stopping:``.
    """

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._undefined(trainer):
            super().on_validation_end(trainer, pl_module)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._undefined(trainer):
            super().on_train_epoch_end(trainer, pl_module)

    def _undefined(self, trainer: Trainer) -> bool:
        value = trainer.callback_metrics.get(self.monitor)
        return value is not None and math.isnan(float(value))
