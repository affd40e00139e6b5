"""FNN's FM phase: an FM fit on the same data, whose best checkpoint initialises FNN.

``lit-ctr fit`` with an :class:`~lit_ctr.models.FNN` and an ``fm_pretraining:`` block runs
two ordinary fits, one after the other (docs/fnn.md):

1. :func:`fit_fm_phase`: an FM (:class:`PretrainingFM`, FM's layers and forward, metrics
   logged under ``fm/``) trained on the same data, to the same loggers, with its own
   stopping rule (:class:`FMPretraining`); its checkpoints go to ``checkpoints/fm/``;
2. the FNN fit, with ``FNN(fm_checkpoint=<the FM's best.ckpt>)``.

``--ckpt_path`` resumes the FNN fit (no FM phase); ``fm_pretraining.ckpt_path`` resumes
an interrupted FM phase.

Neither fit knows about the other beyond that checkpoint path.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from lightning.pytorch import LightningDataModule, Trainer
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from lit_ctr.callbacks._common import run_directory
from lit_ctr.callbacks.checkpointing import AtomicCheckpointIO, BestAndLastCheckpoint
from lit_ctr.callbacks.early_stopping import NaNSkippingEarlyStopping
from lit_ctr.callbacks.garbage_collection import FreezeGarbageCollection
from lit_ctr.errors import ConfigError
from lit_ctr.models.fm import FM
from lit_ctr.models.fnn import FNN

log = logging.getLogger("lit_ctr")


@dataclass
class FMPretraining:
    """Settings of FNN's FM phase (the ``fm_pretraining:`` block of a config).

    Args:
        max_epochs: at most this many FM epochs.
        min_epochs: the FM trains at least this many epochs before its early stopping may
            end it: on small or imbalanced data an FM can look flat for its first epochs.
        patience: then stop after this many validations without a better ``fm/val/auc``.
        min_delta: the smallest rise of ``fm/val/auc`` that counts as better.
        lr: the FM's Adam learning rate (default: FNN's optimizer, as configured).
        weight_decay: the FM's Adam ``weight_decay``, with ``lr`` (without ``lr`` FNN's
            optimizer is used as configured, its decay included). Decay shrinks every row at
            every step, so ids seen a few times cannot keep large vectors: the setting the
            generic FM config uses (docs/accuracy_generic.md).
        embedding_l2: the FM's ``embedding_l2`` (default: FNN's).
        warn_below_auc: warn in one line when the FM handed over has a lower ``fm/val/auc``.
        ckpt_path: resume an interrupted FM phase from its checkpoint
            (``checkpoints/fm/last.ckpt`` of the run); the FNN fit then starts afresh.
    """

    max_epochs: int = 10
    min_epochs: int = 3
    patience: int = 2
    min_delta: float = 0.0
    lr: float | None = None
    weight_decay: float = 0.0
    embedding_l2: float | None = None
    warn_below_auc: float = 0.55
    ckpt_path: str | None = None

    def __post_init__(self) -> None:
        for key in ("max_epochs", "min_epochs", "patience"):
            if getattr(self, key) < 1:
                raise ConfigError(f"fm_pretraining.{key}: expected an integer >= 1, got {getattr(self, key)}")
        if self.min_epochs > self.max_epochs:
            raise ConfigError(
                f"fm_pretraining.min_epochs: expected at most max_epochs ({self.max_epochs}), got {self.min_epochs}"
            )
        if self.weight_decay < 0:
            raise ConfigError(f"fm_pretraining.weight_decay: expected a number >= 0, got {self.weight_decay}")
        if self.weight_decay > 0 and self.lr is None:
            raise ConfigError(
                "fm_pretraining.weight_decay: needs fm_pretraining.lr (without lr the FM phase uses FNN's optimizer as configured)"
            )


class PretrainingFM(FM):
    """:class:`~lit_ctr.models.FM` whose metrics are logged under ``fm/`` (``fm/train/loss``,
    ``fm/val/auc``, ``fm/val/logloss``), so that they sit beside FNN's in one run."""

    metric_prefix = "fm/"


# Trainer arguments the FM phase sets itself rather than taking from the FNN fit's.
_OWN = frozenset(
    ("callbacks", "logger", "plugins", "max_epochs", "min_epochs", "max_steps", "min_steps", "max_time")
    + ("enable_checkpointing",)
)


def fit_fm_phase(
    fnn: FNN,
    datamodule: LightningDataModule,
    trainer: Trainer,
    settings: FMPretraining,
    trainer_args: dict[str, Any],
    ckpt_path: str | None = None,
) -> str:
    """Fit an FM for ``fnn`` on ``datamodule`` and return its best checkpoint's path.

    Args:
        fnn: the FNN to be fitted next (its sizes, ``embed_dim``, optimizer and L2).
        datamodule: the FNN fit's data.
        trainer: the FNN fit's trainer: its loggers and checkpoint folder are shared.
        settings: the FM phase's stopping rule and optimizer.
        trainer_args: the FNN fit's Trainer arguments (device, precision, limits, ...);
            callbacks, loggers and epoch limits are the FM phase's own.
        ckpt_path: an FM-phase checkpoint (``checkpoints/fm/last.ckpt``) to resume from.
    """
    optimizer = (
        fnn.optimizer_factory
        if settings.lr is None
        else partial(torch.optim.Adam, lr=settings.lr, weight_decay=settings.weight_decay)
    )
    l2 = fnn.embedding_l2 if settings.embedding_l2 is None else settings.embedding_l2
    fm = PretrainingFM(
        fnn.field_dims,
        fnn.num_numeric,
        fnn.embed_dim,
        embedding_l2=l2,
        optimizer=optimizer,
        multi_fields=fnn.multi_fields,
    )
    checkpoints = _checkpoint_dir(trainer)
    best = BestAndLastCheckpoint(
        dirpath=checkpoints, filename="best", monitor="fm/val/auc", mode="max", save_last=True,
        auto_insert_metric_name=False,
    )  # fmt: skip
    stopping = NaNSkippingEarlyStopping(
        monitor="fm/val/auc", mode="max", patience=settings.patience, min_delta=settings.min_delta, strict=False
    )
    args = {k: v for k, v in trainer_args.items() if k not in _OWN}
    fm_trainer = Trainer(
        **args, callbacks=[best, stopping, FreezeGarbageCollection()], logger=trainer.loggers or False, plugins=[AtomicCheckpointIO()],
        max_epochs=settings.max_epochs, min_epochs=settings.min_epochs,
    )  # fmt: skip
    fm_trainer.fit(fm, datamodule, ckpt_path=ckpt_path)
    path = best.best_model_path or best.last_model_path
    score = best.best_model_score
    auc = float(score) if score is not None else float("nan")
    for logger in fm_trainer.loggers:  # the FM handed over, beside the FNN's curves
        logger.log_metrics({"fm/best_val_auc": auc}, step=fm_trainer.global_step)
        logger.save()
    rank_zero_info(f"lit-ctr: FM phase done: best fm/val/auc {auc:.4f} ({path}); FNN starts from its vectors")
    if score is None:  # nothing to select on: not "barely better than chance", but unmeasured
        rank_zero_warn(
            "lit-ctr: the FM phase ran without validation (no valid split, or no validation batches), so"
            f" fm/val/auc was not measured and FNN starts from its last epoch ({settings.max_epochs} at most);"
            " give data.valid_path or data.valid_fraction to select the FM by fm/val/auc"
        )
    elif not auc >= settings.warn_below_auc:
        rank_zero_warn(
            f"lit-ctr: the FM handed to FNN is barely better than chance (fm/val/auc {auc:.4f} <"
            f" {settings.warn_below_auc}); raise fm_pretraining.min_epochs or lr, or drop fm_pretraining"
        )
    return path


def _checkpoint_dir(trainer: Trainer) -> str:
    callback = trainer.checkpoint_callback
    dirpath = getattr(callback, "dirpath", None) or os.path.join(run_directory(trainer), "checkpoints")
    return os.path.join(str(dirpath), "fm")


def fm_phase_before_fit(
    model: Any,
    datamodule: LightningDataModule,
    trainer: Trainer,
    settings: FMPretraining | None,
    trainer_args: dict[str, Any],
    ckpt_path: str | None,
) -> str | None:
    """What ``lit-ctr fit`` runs before an FNN fit; returns the FNN fit's ``ckpt_path``.

    Nothing happens unless ``model`` is an FNN, ``settings`` is given and FNN has no
    ``fm_checkpoint`` of its own. A ``ckpt_path`` (an FNN checkpoint, ``last``) resumes the
    FNN phase, with no FM phase; ``settings.ckpt_path`` resumes the FM phase, and the FNN
    fit then starts afresh from its best FM.
    """
    if not isinstance(model, FNN) or settings is None:
        return ckpt_path
    if model.fm_checkpoint:
        rank_zero_info(f"lit-ctr: FNN starts from fm_checkpoint {model.fm_checkpoint}; no FM phase")
        return ckpt_path
    if ckpt_path is not None:
        return ckpt_path  # the FNN phase resumes; its checkpoint holds the fine-tuned vectors
    model.fm_checkpoint = model.hparams["fm_checkpoint"] = fit_fm_phase(
        model, datamodule, trainer, settings, trainer_args, ckpt_path=settings.ckpt_path
    )
    return None
