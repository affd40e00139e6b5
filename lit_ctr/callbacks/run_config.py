"""The run's configuration, data statistics and parameter count, sent to W&B.

:class:`LoggedSaveConfigCallback` is the ``lit-ctr`` command's ``SaveConfigCallback``: it
writes ``config.yaml`` into the run's own folder (the one holding ``checkpoints/``: with
the CSV logger ``<save_dir>/<name>/version_N``, with W&B ``<save_dir>/<project>/<run id>``;
Lightning's own writes it to ``save_dir`` for W&B, where every run overwrites the last),
and, for every logger that is a ``WandbLogger``, logs as the W&B run config:

- ``config``: the complete resolved config (every default filled in, as ``config.yaml``);
- ``data``: row counts and positive rate per split, per-field cardinality (distinct kept
  values) and vocabulary size (ids, out-of-vocabulary and missing included), the total
  vocabulary size and the numeric fields;
- ``model``: the model class and its parameter counts.

Other loggers get nothing more than Lightning gives them (the model's hyper-parameters).
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback

from lit_ctr.callbacks._common import run_directory, wandb_loggers


class LoggedSaveConfigCallback(SaveConfigCallback):
    """``SaveConfigCallback`` that writes ``config.yaml`` into the run's own folder and also
    logs the config and data statistics to W&B."""

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.already_saved:
            return
        if self.save_to_log_dir:
            # Rank 0's folder for every rank: with W&B it names the run id, which only rank 0's
            # logger holds (Lightning starts the run before the callbacks' setup).
            folder = trainer.strategy.broadcast(run_directory(trainer))
            path = os.path.join(folder, self.config_filename)
            fs = get_filesystem(folder)
            exists = trainer.strategy.broadcast(fs.isfile(path) if trainer.is_global_zero else False)
            if exists and not self.overwrite:
                raise RuntimeError(f"{path} exists: not overwriting the config of an earlier run")
            if trainer.is_global_zero:
                fs.makedirs(folder, exist_ok=True)
                self.parser.save(self.config, path, skip_none=False, overwrite=self.overwrite, multifile=self.multifile)
        if trainer.is_global_zero:
            self.save_config(trainer, pl_module, stage)
            self.already_saved = True
        self.already_saved = trainer.strategy.broadcast(self.already_saved)

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
