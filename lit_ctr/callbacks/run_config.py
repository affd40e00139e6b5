"""The run's configuration, data statistics and parameter count, sent to W&B.

:class:`LoggedSaveConfigCallback` is the ``lit-ctr`` command's ``SaveConfigCallback``: it
writes ``config.yaml`` into the log directory as Lightning's does, and, for every logger
that is a ``WandbLogger``, logs as the W&B run config:

- ``config``: the complete resolved config (every default filled in, as ``config.yaml``);
- ``data``: row counts and positive rate per split, per-field cardinality (distinct kept
  values) and vocabulary size (ids, out-of-vocabulary and missing included), the total
  vocabulary size and the numeric fields;
- ``model``: the model class and its parameter counts.

Other loggers get nothing more than Lightning gives them (the model's hyper-parameters).
"""

from __future__ import annotations

from typing import Any

import yaml
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback

from lit_ctr.callbacks._common import wandb_loggers


class LoggedSaveConfigCallback(SaveConfigCallback):
    """``SaveConfigCallback`` that also logs the config and data statistics to W&B."""

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        loggers = wandb_loggers(trainer)
        if not loggers:
            return
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))
        params = run_summary(pl_module, getattr(trainer, "datamodule", None))
        params["config"] = config
        for logger in loggers:
            logger.log_hyperparams(params)


def run_summary(pl_module: LightningModule, datamodule: Any = None) -> dict[str, Any]:
    """``{"model": {...}, "data": {...}}``: parameter counts and the data's statistics."""
    parameters = list(pl_module.parameters())
    out: dict[str, Any] = {
        "model": {
            "class": f"{type(pl_module).__module__}.{type(pl_module).__qualname__}",
            "parameters": sum(p.numel() for p in parameters),
            "trainable_parameters": sum(p.numel() for p in parameters if p.requires_grad),
        }
    }
    stats = data_statistics(datamodule) if datamodule is not None else {}
    if stats:
        out["data"] = stats
    return out


def data_statistics(datamodule: Any) -> dict[str, Any]:
    """Row counts, positive rates, field cardinalities and vocabulary sizes of a
    ``CTRDataModule`` (empty for a datamodule without ``meta``/``vocabulary``)."""
    try:
        meta = datamodule.meta
        vocabulary = datamodule.vocabulary
    except (AttributeError, FileNotFoundError):
        return {}
    stats: dict[str, Any] = {
        "rows": {split: int(n) for split, n in meta.get("rows", {}).items()},
        "positive_rate": {split: float(r) for split, r in meta.get("positive_rate", {}).items()},
        "fields": {f.name: {"cardinality": len(f.values), "vocabulary_size": f.size} for f in vocabulary.fields},
        "vocabulary_size": vocabulary.total_size,
        "num_categorical": len(vocabulary.fields),
        "num_numeric": int(meta.get("num_numeric", 0)),
    }
    schema = getattr(datamodule, "schema", None)
    if schema is not None:
        stats["numeric_fields"] = [f.name for f in schema.numeric]
    return stats
