"""A W&B run as a W&B user expects it: best-value summaries, a telling name, optional ``watch``.

Two parts, both doing nothing without a ``WandbLogger``:

- :func:`apply_wandb_run_defaults` fills in, before the logger is built, the run's
  ``name`` (``<model>-<data>-seed<seed>-<6 random characters>``, so two runs of one config
  are told apart), ``group`` (``<model>-<data>``: seeds, fit and test side by side),
  ``tags`` (``[<model>, <data>, seed<seed>]``) and ``job_type`` (the subcommand). Each is
  left alone where the config sets it.
- :class:`WandbRunSetup`, a callback, makes the run summary hold the best, not the last,
  validation metrics (``define_metric``: ``val/auc`` max, ``val/logloss`` min, the same for
  ``fm/``), writes ``best/epoch``, ``best/val/auc`` and ``best/val/logloss`` (the epoch
  ``best.ckpt`` is from) into the summary, and, when asked, has W&B ``watch`` the model.
"""

from __future__ import annotations

import math
import re
import secrets
import string
from pathlib import Path
from typing import Any, Literal

from lightning.pytorch import Callback, LightningModule, Trainer

from lit_ctr.callbacks._common import wandb_loggers

SUMMARIES = {
    "val/auc": "max",
    "val/logloss": "min",
    "fm/val/auc": "max",
    "fm/val/logloss": "min",
}
"""Metric → the value the run summary keeps (``define_metric``'s ``summary``)."""

STEP_METRIC = "trainer/global_step"
"""The x-axis WandbLogger gives every metric; a metric defined again must keep it."""

_WANDB_LOGGER = re.compile(r"(^|\.)WandbLogger$")


class WandbRunSetup(Callback):
    """Best-value summaries, the best epoch and optional ``watch`` for every W&B logger.

    Args:
        monitor: the metric whose best value picks ``best/epoch`` (``best.ckpt``'s metric).
        mode: ``max`` or ``min``: which value of ``monitor`` is best.
        watch: have W&B log the model's ``gradients``, ``parameters`` or ``all`` (both) as
            histograms every ``watch_log_freq`` steps; ``None`` (default): off.
        watch_log_freq: steps between two ``watch`` histograms.
    """

    def __init__(
        self,
        monitor: str = "val/auc",
        mode: Literal["max", "min"] = "max",
        watch: Literal["gradients", "parameters", "all"] | None = None,
        watch_log_freq: int = 100,
    ) -> None:
        if mode not in ("max", "min"):
            raise ValueError(f"wandb.mode: expected 'max' or 'min', got {mode!r}")
        if watch not in (None, "gradients", "parameters", "all"):
            raise ValueError(f"wandb.watch: expected gradients, parameters, all or null, got {watch!r}")
        if not isinstance(watch_log_freq, int) or watch_log_freq < 1:
            raise ValueError(f"wandb.watch_log_freq: expected an integer >= 1, got {watch_log_freq!r}")
        self.monitor = monitor
        self.mode = mode
        self.watch = watch
        self.watch_log_freq = watch_log_freq
        self.best: float | None = None

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        # Lightning creates the loggers' runs before the callbacks' setup: define_metric works here.
        for logger in wandb_loggers(trainer):
            for name, summary in SUMMARIES.items():
                logger.experiment.define_metric(name, summary=summary, step_metric=STEP_METRIC, step_sync=True)
            if self.watch is not None and stage == "fit":
                logger.watch(pl_module, log=self.watch, log_freq=self.watch_log_freq, log_graph=False)

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking or not wandb_loggers(trainer):
            return
        metric = trainer.callback_metrics.get(self.monitor)
        if metric is None:
            return
        value = float(metric)
        if math.isnan(value):
            return
        if self.best is not None and not (value > self.best if self.mode == "max" else value < self.best):
            return
        self.best = value
        best: dict[str, Any] = {"best/epoch": trainer.current_epoch, f"best/{self.monitor}": value}
        for name in ("val/auc", "val/logloss"):
            if name != self.monitor and name in trainer.callback_metrics:
                best[f"best/{name}"] = float(trainer.callback_metrics[name])
        for logger in wandb_loggers(trainer):
            logger.experiment.summary.update(best)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = state_dict.get("best")


def apply_wandb_run_defaults(config: Any, subcommand: str | None = None) -> None:
    """Fill in a W&B logger's ``name``, ``group``, ``tags`` and ``job_type`` where unset.

    Args:
        config: one subcommand's parsed config (a jsonargparse ``Namespace`` with
            ``trainer.logger``, ``model``, ``data`` and ``seed_everything``); changed in place.
        subcommand: ``fit``, ``test``, …: the run's ``job_type``.
    """
    trainer = _get(config, "trainer")
    loggers = _get(trainer, "logger")
    loggers = loggers if isinstance(loggers, list) else [loggers]
    model = _short_name(_get(_get(config, "model"), "class_path")) or "model"
    data = data_name(_get(config, "data"))
    seed = _get(config, "seed_everything")
    seed_tag = f"seed{seed}" if isinstance(seed, int) and not isinstance(seed, bool) else "seed-none"
    defaults = {
        "name": f"{model}-{data}-{seed_tag}-{_suffix()}",
        "group": f"{model}-{data}",
        "tags": [model, data, seed_tag],
        "job_type": subcommand,
    }
    for logger in loggers:
        if not _WANDB_LOGGER.search(str(_get(logger, "class_path") or "")):
            continue
        init_args = _get(logger, "init_args")
        extra = _get(logger, "dict_kwargs") or {}
        for key, value in defaults.items():
            if value is None or _get(init_args, key) is not None or _get(extra, key) is not None:
                continue
            # jsonargparse resolves wandb.init's own keywords (group, tags, …) into init_args.
            if init_args is not None and (isinstance(init_args, dict) or hasattr(init_args, key)):
                _set(init_args, key, value)
            else:
                extra[key] = value
                _set(logger, "dict_kwargs", extra)


def data_name(data: Any) -> str:
    """What data a config trains on, in a word: the folder of ``train_path`` (``frappe``),
    or of the first split given; ``synthetic`` for the generated data; else the class name."""
    class_path = str(_get(data, "class_path") or "")
    if "synthetic" in class_path.lower():
        return "synthetic"
    init_args = _get(data, "init_args")
    for key in ("train_path", "valid_path", "test_path", "predict_path"):
        path = _get(init_args, key)
        if isinstance(path, str) and path:
            folder = Path(path.split("*")[0]).parent.name
            return _clean(folder) or _clean(Path(path).stem) or "data"
    return _short_name(class_path) or "data"


def _suffix() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(6))


def _short_name(class_path: Any) -> str:
    return _clean(str(class_path).rsplit(".", 1)[-1].lower()) if class_path else ""


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-").lower()


def _get(container: Any, key: str) -> Any:
    if container is None:
        return None
    if isinstance(container, dict):
        return container.get(key)
    return getattr(container, key, None)


def _set(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
    else:
        setattr(container, key, value)
