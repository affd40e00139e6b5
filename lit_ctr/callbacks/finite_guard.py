"""Stop at the first NaN or infinite training loss; never write a checkpoint with non-finite weights."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


class NonFiniteWeightsError(FloatingPointError):
    """A checkpoint was about to be written with NaN or infinite weights."""


class FiniteLossGuard(Callback):
    """Stops training at the first NaN or infinite loss, naming the step, before that
    step's backward pass and optimizer step touch the weights; and refuses to write a
    checkpoint whose weights are not all finite (so ``best.ckpt`` and ``last.ckpt`` keep
    the last good weights, whatever the monitored metric says).

    The CLI adds it to every run (config key ``finite_loss_guard``).

    Args:
        check_every_n_steps: how often the loss is brought to the host. 1 (default)
            stops before the bad step reaches the weights. On a GPU a larger value
            avoids one device synchronisation per step: the first bad step is then
            recorded on the device and reported up to n-1 steps late (the weights
            may already be NaN, but no checkpoint with them is written).
    """

    def __init__(self, check_every_n_steps: int = 1) -> None:
        if check_every_n_steps < 1:
            raise ValueError(f"check_every_n_steps: expected an integer >= 1, got {check_every_n_steps}")
        self.check_every_n_steps = check_every_n_steps
        self._batch_idx = 0
        self._first_bad: Tensor | None = None  # [global step, epoch, batch, value] of the first bad loss

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        self._batch_idx = batch_idx

    def on_before_backward(self, trainer: Trainer, pl_module: LightningModule, loss: Tensor) -> None:
        loss = loss.detach().float()
        if self.check_every_n_steps == 1:
            bad_here = not bool(torch.isfinite(loss).all())
            if _anywhere(trainer, bad_here):
                self._raise(trainer.global_step, trainer.current_epoch, self._batch_idx, loss if bad_here else None)
            return
        here = torch.tensor(
            [trainer.global_step, trainer.current_epoch, self._batch_idx, 0.0], dtype=torch.float64, device=loss.device
        )
        here[3] = loss.sum().double()  # NaN or ±inf exactly when the loss is not finite
        bad = ~torch.isfinite(loss).all()
        if self._first_bad is None:
            self._first_bad = torch.full_like(here, float("nan"))
        self._first_bad = torch.where(bad & torch.isnan(self._first_bad[0]), here, self._first_bad)
        if (trainer.global_step + 1) % self.check_every_n_steps == 0:
            self._check_recorded(trainer)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._check_recorded(trainer)

    def on_save_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]) -> None:
        self._check_recorded(trainer)
        for name, value in checkpoint.get("state_dict", {}).items():
            if torch.is_tensor(value) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
                raise NonFiniteWeightsError(
                    f"lit-ctr: not saving a checkpoint at global step {trainer.global_step} "
                    f"(epoch {trainer.current_epoch}): weight {name!r} holds NaN or infinite values. "
                    "The checkpoints already written are kept."
                )

    def _check_recorded(self, trainer: Trainer) -> None:
        bad_here = self._first_bad is not None and not bool(torch.isnan(self._first_bad[0]))
        if not _anywhere(trainer, bad_here):
            return
        if not bad_here:
            self._raise(trainer.global_step, trainer.current_epoch, self._batch_idx, None)
        assert self._first_bad is not None  # bad_here
        step, epoch, batch, value = self._first_bad.tolist()
        self._raise(int(step), int(epoch), int(batch), torch.tensor(value))

    def _raise(self, step: int, epoch: int, batch: int, loss: Tensor | None) -> None:
        if loss is None:  # under DDP: another process saw it; every process stops
            what = f"NaN or infinite in another process by global step {step} (epoch {epoch})"
        else:
            value = "NaN" if bool(torch.isnan(loss).any()) else "infinite"
            what = f"{value} at global step {step} (epoch {epoch}, batch {batch})"
        raise NonFiniteLossError(
            f"lit-ctr: the training loss is {what}; training stopped. Checkpoints written so far hold "
            "finite weights from earlier steps. Try a lower learning rate, gradient clipping "
            "(--trainer.gradient_clip_val), or check the inputs."
        )


def _anywhere(trainer: Trainer, bad_here: bool) -> bool:
    """Whether any process saw a bad loss: under DDP all of them must stop together, or
    the others would wait for this one in the next gradient all-reduce."""
    if trainer.world_size == 1:
        return bad_here
    return not trainer.strategy.reduce_boolean_decision(not bad_here, all=True)
