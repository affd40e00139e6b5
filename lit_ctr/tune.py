"""``lit-ctr tune``: a W&B sweep file's search run with Optuna, without a W&B server.

Reads the same ``configs/sweeps/<model>.yaml`` as ``wandb sweep``: its ``metric`` (name and
goal), its ``parameters`` (lit-ctr CLI keys with ``values``, ``value``, or a ``min``/``max``
range: ``uniform``, ``int_uniform``, ``log_uniform_values``) and the ``--config`` files
of its ``command`` (``configs/wandb.yaml`` left out: trials log with the config's own
logger). Each trial is ``lit-ctr fit`` with the trial's values; its score is the metric's
best value over the trial's validations (the one ``best.ckpt`` holds), and Optuna's
median pruner stops trials whose metric lags the others' at the same epoch::

    lit-ctr tune --sweep configs/sweeps/fm.yaml --trials 30 --storage sqlite:///tune.db
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import yaml
from lightning.pytorch import Callback, LightningModule, Trainer

from lit_ctr.errors import ConfigError

log = logging.getLogger("lit_ctr")


class TrialReporter(Callback):
    """Reports the metric to an Optuna trial after each validation; prunes when told."""

    def __init__(self, trial: Any, metric: str) -> None:
        self.trial = trial
        self.metric = metric
        self.history: list[float] = []

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        import optuna

        value = trainer.callback_metrics.get(self.metric)
        if trainer.sanity_checking or value is None or math.isnan(float(value)):
            return
        self.history.append(float(value))
        self.trial.set_user_attr("history", self.history)
        self.trial.report(float(value), step=trainer.current_epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"{self.metric} {float(value):.4f} at epoch {trainer.current_epoch}")


def suggest(trial: Any, name: str, spec: dict[str, Any]) -> Any:
    """One value of a W&B sweep parameter, drawn by the Optuna trial."""
    if "value" in spec:
        return spec["value"]
    if "values" in spec:
        # Optuna's choices are scalars: lists (hidden_units) travel as JSON text.
        choices = [json.dumps(v) for v in spec["values"]]
        return json.loads(trial.suggest_categorical(name, choices))
    low, high = spec.get("min"), spec.get("max")
    kind = spec.get("distribution") or ("int_uniform" if isinstance(low, int) and isinstance(high, int) else "uniform")
    if low is None or high is None:
        raise ConfigError(f"parameters.{name}: expected value, values, or min and max")
    if kind == "int_uniform":
        return trial.suggest_int(name, int(low), int(high))
    if kind == "uniform":
        return trial.suggest_float(name, float(low), float(high))
    if kind == "log_uniform_values":
        return trial.suggest_float(name, float(low), float(high), log=True)
    raise ConfigError(
        f"parameters.{name}.distribution: lit-ctr tune reads uniform, int_uniform and log_uniform_values, got {kind!r}"
    )


def sweep_configs(spec: dict[str, Any]) -> list[str]:
    """The ``--config`` files of the sweep's command, ``wandb.yaml`` left out."""
    command = [str(c) for c in spec.get("command", [])]
    configs = [command[i + 1] for i, c in enumerate(command[:-1]) if c == "--config"]
    return [c for c in configs if Path(c).name != "wandb.yaml"]


def tune(
    sweep: str,
    trials: int = 20,
    storage: str | None = None,
    study_name: str | None = None,
    seed: int = 0,
) -> Any:
    """Search a sweep file's parameters with Optuna; returns the study.

    Args:
        sweep: a W&B sweep file (``configs/sweeps/fm.yaml``).
        trials: trials to run (on top of those already in ``storage``).
        storage: an Optuna storage URL (``sqlite:///tune.db``) to keep and resume the study;
            default: in memory.
        study_name: the study's name in ``storage`` (default: the sweep's ``name``).
        seed: the sampler's seed.
    """
    try:
        import optuna
    except ImportError:
        raise SystemExit("lit-ctr: error: lit-ctr tune needs Optuna: pip install 'lit-ctr[tune]'") from None
    from lit_ctr.cli import build_cli

    path = Path(sweep)
    if not path.is_file():
        raise ConfigError(f"sweep: no such file {sweep!r}")
    spec = yaml.safe_load(path.read_text())
    metric = spec.get("metric") or {}
    if not isinstance(spec.get("parameters"), dict) or "name" not in metric:
        raise ConfigError(f"sweep: {sweep} has no metric name or no parameters")
    goal = metric.get("goal", "maximize")
    configs = sweep_configs(spec)

    def objective(trial: Any) -> float:
        values = {name: suggest(trial, name, p) for name, p in spec["parameters"].items()}
        args = [a for c in configs for a in ("--config", c)] + [f"--{k}={json.dumps(v)}" for k, v in values.items()]
        cli = build_cli(args, run=False)
        trial.set_user_attr("embed_dim", cli.model.hparams.get("embed_dim"))  # what reached the model
        reporter = TrialReporter(trial, metric["name"])
        cli.trainer.callbacks.append(reporter)
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        if not reporter.history:
            raise ConfigError(f"metric.name: the runs log no {metric['name']!r}")
        return max(reporter.history) if goal == "maximize" else min(reporter.history)

    study = optuna.create_study(
        study_name=study_name or spec.get("name"),
        storage=storage,
        load_if_exists=storage is not None,
        direction=goal,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_warmup_steps=1),
    )
    study.optimize(objective, n_trials=trials)
    log.info("lit-ctr: best %s %.4f with %s", metric["name"], study.best_value, study.best_params)
    return study


def main(args: list[str] | None = None) -> None:
    """``lit-ctr tune`` from the command line."""
    from jsonargparse import CLI

    CLI(tune, args=args, as_positional=False, prog="lit-ctr tune")
