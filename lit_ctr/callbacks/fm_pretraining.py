"""``FMPretraining``: FNN's two stages (train an FM, then the network on its vectors) in
one ``Trainer.fit``.

Phase 1 trains FNN's own first-order weights and latent vectors as a factorization
machine (:meth:`FNN.fm_forward`), logging ``fm/train/loss``, ``fm/val/auc`` and
``fm/val/logloss``. It ends after ``max_epochs`` FM epochs, or, once ``min_epochs`` FM
epochs have run, after ``patience`` validations in which neither ``fm/val/auc`` rose nor
``fm/val/logloss`` fell. At the start of the next epoch the FM with the best
validation AUC is copied back into the vectors (the transfer), the optimizer state is
cleared and the network's learning rate restored, and phase 2 trains the MLP on top while
fine-tuning the vectors, logging the usual ``train/loss``, ``val/auc`` and ``val/logloss``.
The handed-over FM's ``fm/val/auc`` is logged as ``fm/best_val_auc``, and a one-line
warning says so when it is barely better than chance (below ``warn_below_auc``).

``trainer.max_epochs`` counts both phases (phase 2 gets what phase 1 leaves). The phase
is derived from the callback's state, which is saved in every checkpoint: resuming from a
checkpoint taken in phase 2 goes straight on with phase 2.

While phase 1 runs, checkpointing and early stopping that monitor a phase-2 metric
(``val/auc``, ...) are held back: ``ModelCheckpoint.save_top_k`` is set to 0 (it neither
ranks nor saves, so it never looks for the missing key) and ``EarlyStopping.strict`` to
False (a missing key is skipped, not counted). Both are restored at the transfer.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch import Tensor

from lit_ctr.callbacks._common import log_metrics

FM_PREFIX = "fm/"


class FMPretraining(Callback):
    """Train an FM first (phase 1), then the FNN initialised from it (phase 2), in one fit.

    Configure it under ``trainer.callbacks`` with an :class:`~lit_ctr.models.FNN` model::

        trainer:
          max_epochs: 100          # both phases together
          callbacks:
            - class_path: lit_ctr.callbacks.FMPretraining
              init_args: {max_epochs: 30, patience: 2, lr: 0.02, embedding_l2: 0.02}

    Args:
        max_epochs: at most this many FM epochs (phase 1); they count towards
            ``trainer.max_epochs``.
        min_epochs: the stopping rule may not end phase 1 before this many FM epochs (or
            ``max_epochs``, if fewer): an FM on small or imbalanced data can look flat for
            its first epochs while it is still learning.
        patience: end phase 1 after this many validations in which neither ``fm/val/auc``
            rose nor ``fm/val/logloss`` fell (by more than ``min_delta``).
        min_delta: the smallest change that counts as better.
        warn_below_auc: warn when the FM handed over has a lower ``fm/val/auc`` than this.
        lr: learning rate of every parameter group during phase 1 (default: the model's
            optimizer's own); phase 2 starts with the optimizer's configured rate.
        embedding_l2: L2 weight on the looked-up vectors during phase 1 (default: the
            model's ``embedding_l2``).
    """

    def __init__(
        self,
        max_epochs: int = 10,
        patience: int = 2,
        min_delta: float = 0.0,
        lr: float | None = None,
        embedding_l2: float | None = None,
        min_epochs: int = 5,
        warn_below_auc: float = 0.55,
    ) -> None:
        if max_epochs < 1:
            raise ValueError(f"FMPretraining.max_epochs must be >= 1, got {max_epochs}")
        if patience < 1:
            raise ValueError(f"FMPretraining.patience must be >= 1, got {patience}")
        if min_epochs < 1:
            raise ValueError(f"FMPretraining.min_epochs must be >= 1, got {min_epochs}")
        self.max_epochs = max_epochs
        self.min_epochs = min(min_epochs, max_epochs)
        self.warn_below_auc = warn_below_auc
        self.patience = patience
        self.min_delta = min_delta
        self.lr = lr
        self.embedding_l2 = embedding_l2
        # Persisted (state_dict): where the run stands.
        self.transfer_epoch: int | None = None  # first phase-2 epoch, once phase 1 has ended
        self.transferred = False  # the FM has been copied into FNN's vectors
        self.best_auc: float | None = None
        self.best_logloss: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.best_state: dict[str, Tensor] | None = None  # the best FM so far (phase 1 only)
        self.phase2_lrs: list[list[float]] | None = None
        # Not persisted.
        self._held: list[tuple[Callback, str, Any]] = []

    # ----------------------------------------------------------------- state
    @property
    def in_phase1(self) -> bool:
        """True until the trained FM has been copied into FNN's vectors."""
        return not self.transferred

    def state_dict(self) -> dict[str, Any]:
        return {
            "transfer_epoch": self.transfer_epoch,
            "transferred": self.transferred,
            "best_auc": self.best_auc,
            "best_logloss": self.best_logloss,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "best_state": self.best_state if self.in_phase1 else None,
            "phase2_lrs": self.phase2_lrs,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.transfer_epoch = state_dict["transfer_epoch"]
        self.transferred = state_dict["transferred"]
        self.best_auc = state_dict["best_auc"]
        self.best_logloss = state_dict.get("best_logloss")  # absent from checkpoints of lit-ctr 0.1
        self.best_epoch = state_dict["best_epoch"]
        self.wait = state_dict["wait"]
        self.best_state = state_dict["best_state"]
        self.phase2_lrs = state_dict["phase2_lrs"]

    # ----------------------------------------------------------------- hooks
    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        missing = [
            a for a in ("fm_forward", "fm_state_dict", "load_fm_state_dict", "pretraining") if not hasattr(pl_module, a)
        ]
        if missing:
            raise TypeError(
                f"FMPretraining needs an FNN-like model (lit_ctr.models.FNN); {type(pl_module).__name__} lacks {missing}"
            )

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if getattr(pl_module, "fm_checkpoint", None) and not self.transferred:
            # The model copies the FM from its fm_checkpoint: nothing to pre-train.
            rank_zero_info("FMPretraining: the model initialises its vectors from fm_checkpoint; no FM phase")
            self.transfer_epoch, self.transferred = trainer.current_epoch, True
        if self.in_phase1 and trainer.max_epochs is not None and 0 <= trainer.max_epochs <= self.max_epochs:
            rank_zero_warn(
                f"FMPretraining: trainer.max_epochs={trainer.max_epochs} counts both phases and the FM phase may take"
                f" up to {self.max_epochs}; the FNN phase may get no epochs. Raise trainer.max_epochs."
            )
        self._apply_phase(trainer, pl_module)

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.in_phase1 and self.transfer_epoch is not None and trainer.current_epoch >= self.transfer_epoch:
            self._transfer(trainer, pl_module)
        self._apply_phase(trainer, pl_module)

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking or not self.in_phase1 or self.transfer_epoch is not None:
            return
        value = trainer.callback_metrics.get(f"{FM_PREFIX}val/auc")
        if value is not None:
            auc, logloss = float(value), _float_or_none(trainer.callback_metrics.get(f"{FM_PREFIX}val/logloss"))
            better_auc = math.isfinite(auc) and (self.best_auc is None or auc > self.best_auc + self.min_delta)
            better_logloss = logloss is not None and (
                self.best_logloss is None or logloss < self.best_logloss - self.min_delta
            )
            if better_auc:
                self.best_auc, self.best_epoch = auc, trainer.current_epoch
                self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in pl_module.fm_state_dict().items()}
            if better_logloss:
                self.best_logloss = logloss
            self.wait = 0 if better_auc or better_logloss else self.wait + 1
        # Decided here, before ModelCheckpoint writes this epoch's last.ckpt (checkpoint
        # callbacks run last), so that a resume from it starts phase 2 on time.
        self._maybe_end_phase1(trainer, epoch_done=trainer.fit_loop.epoch_loop.batch_progress.is_last_batch)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.in_phase1 and self.transfer_epoch is None:
            self._maybe_end_phase1(trainer, epoch_done=True)  # epochs without validation

    def _maybe_end_phase1(self, trainer: Trainer, epoch_done: bool) -> None:
        fm_epochs = trainer.current_epoch + 1  # phase 1 always starts at epoch 0
        out_of_epochs = epoch_done and fm_epochs >= self.max_epochs
        out_of_patience = self.wait >= self.patience and fm_epochs >= self.min_epochs
        if out_of_epochs or out_of_patience:
            self.transfer_epoch = trainer.current_epoch + 1
            reason = (
                "max_epochs" if out_of_epochs else f"no better fm/val/auc or fm/val/logloss in {self.wait} validations"
            )
            rank_zero_info(f"FMPretraining: the FM phase ends after epoch {trainer.current_epoch} ({reason})")

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.in_phase1:
            rank_zero_warn(
                "FMPretraining: training ended during the FM phase, so the FNN network was never trained;"
                " raise trainer.max_epochs (it counts both phases)."
            )

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self._release(trainer)
        if hasattr(pl_module, "pretraining"):
            pl_module.pretraining = False
            pl_module.pretraining_embedding_l2 = None

    # ----------------------------------------------------------------- phases
    def _apply_phase(self, trainer: Trainer, pl_module: LightningModule) -> None:
        pl_module.pretraining = self.in_phase1
        pl_module.pretraining_embedding_l2 = self.embedding_l2 if self.in_phase1 else None
        if not self.in_phase1:
            self._release(trainer)
            return
        self._hold(trainer)
        if self.phase2_lrs is None:
            self.phase2_lrs = [[g["lr"] for g in opt.param_groups] for opt in trainer.optimizers]
        if self.lr is not None:
            for optimizer in trainer.optimizers:
                for group in optimizer.param_groups:
                    group["lr"] = self.lr

    @torch.no_grad()
    def _transfer(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Copy the best FM into FNN's vectors; phase 2 starts with a fresh optimizer state."""
        if self.best_state is not None:
            pl_module.load_fm_state_dict(self.best_state)
        for optimizer, lrs in zip(trainer.optimizers, self.phase2_lrs or [], strict=False):
            optimizer.state.clear()  # Adam's moments belong to the FM phase
            for group, lr in zip(optimizer.param_groups, lrs, strict=True):
                group["lr"] = lr
        self.transferred, self.best_state = True, None
        best = (
            "the last FM"
            if self.best_auc is None
            else f"the FM of epoch {self.best_epoch} (fm/val/auc {self.best_auc:.4f})"
        )
        rank_zero_info(
            f"FMPretraining: {best} copied into the FNN vectors; FNN phase starts at epoch {trainer.current_epoch}"
        )
        if self.best_auc is not None:
            log_metrics(trainer, {f"{FM_PREFIX}best_val_auc": self.best_auc})
            if self.best_auc < self.warn_below_auc:
                rank_zero_warn(
                    f"FMPretraining: the FM handed to FNN is barely better than chance (fm/val/auc {self.best_auc:.4f}"
                    f" < {self.warn_below_auc}); raise FMPretraining.min_epochs or lr, or drop the FM phase"
                )

    def _hold(self, trainer: Trainer) -> None:
        """Keep phase-2 monitors from ranking (or missing) phase-1 validations."""
        if self._held:
            return
        for callback in trainer.callbacks:
            monitor = getattr(callback, "monitor", None)
            if not monitor or monitor.startswith(FM_PREFIX):
                continue
            if isinstance(callback, ModelCheckpoint):
                self._held.append((callback, "save_top_k", callback.save_top_k))
                callback.save_top_k = 0
            elif isinstance(callback, EarlyStopping):
                self._held.append((callback, "strict", callback.strict))
                callback.strict = False

    def _release(self, trainer: Trainer) -> None:
        for callback, attribute, value in self._held:
            setattr(callback, attribute, value)
        self._held = []


def _float_or_none(value: Any) -> float | None:
    """A logged value as a finite float, or None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
