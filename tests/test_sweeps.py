"""W&B sweep files: the arguments an agent passes reach the model, and the metric the sweep
optimises is the run summary's best value, not the last epoch's."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from lit_ctr.cli import build_cli

from lit_ctr.callbacks.wandb_run import SUMMARIES, WandbRunSetup

wandb = pytest.importorskip("wandb")
from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args  # noqa: E402

ROOT = Path(__file__).parent.parent
SWEEPS = sorted((ROOT / "configs" / "sweeps").glob("*.yaml"))
MODELS = {"deepfm": "DeepFM", "fm": "FM", "nfm": "NFM"}


def sweep(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def a_value(spec: dict):
    """One value the sweep may pick for a parameter (the last of ``values``, or the middle
    of a range, geometric for log distributions)."""
    if "values" in spec:
        return spec["values"][-1]
    if "value" in spec:
        return spec["value"]
    low, high = spec["min"], spec["max"]
    if spec.get("distribution", "").startswith("log_uniform"):
        return math.sqrt(low * high)
    return (low + high) / 2


def agent_command(path: Path, values: dict) -> list[str]:
    """The command line ``wandb agent`` runs for these parameter values (wandb's own code)."""
    spec = sweep(path)
    variables = create_sweep_command_args({"args": {k: {"value": v} for k, v in values.items()}})
    variables["env"] = ["/usr/bin/env"]
    command = []
    for part in create_sweep_command(spec["command"]):
        part = str(part)
        command += variables.get(part[2:-1], []) if part.startswith("${") else [part]
    return command


def test_there_is_a_sweep_for_deepfm_fm_and_nfm():
    assert {p.stem for p in SWEEPS} >= {"deepfm", "fm", "nfm"}


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_sweep_maximizes_val_auc_with_bayes_or_random_search(path):
    spec = sweep(path)
    assert spec["metric"] == {"name": "val/auc", "goal": "maximize"}
    assert spec["method"] in ("bayes", "random")


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_sweep_command_is_lit_ctr_fit_with_existing_configs_and_the_agent_arguments(path):
    command = sweep(path)["command"]
    assert command[1:3] == ["lit-ctr", "fit"] and command[-1] == "${args}"
    configs = [command[i + 1] for i, part in enumerate(command) if part == "--config"]
    assert configs and all((ROOT / c).is_file() for c in configs)
    assert configs[-1] == "configs/wandb.yaml"  # a sweep's runs report to W&B


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_agent_arguments_parse_and_reach_the_model(path, write_config):
    spec = sweep(path)
    values = {name: a_value(p) for name, p in spec["parameters"].items()}
    command = agent_command(path, values)
    # The sweep's data (frappe) is not here: its config is swapped for the same model class
    # on the tests' small data; the rest is the agent's command line as wandb writes it.
    frappe = next(c for c in command if c.startswith("configs/frappe/"))
    command[command.index(frappe)] = str(write_config(MODELS[path.stem]))
    command = [str(ROOT / c) if c.startswith("configs/") else c for c in command]  # the agent runs in the root
    args = command[command.index("fit") + 1 :]
    assert [a for a in args if a.startswith("--") and "=" in a] == [f"--{k}={v}" for k, v in values.items()]
    cli = build_cli(args, run=False)
    optimizer = cli.model.optimizer_factory(cli.model.parameters())
    for name, value in values.items():
        key = name.rsplit(".", 1)[-1]
        if name.startswith("model.init_args.optimizer.init_args."):
            got = optimizer.param_groups[0][key]
        elif name.startswith("model.init_args."):
            got = cli.model.hparams[key]
        elif name.startswith("data.init_args."):
            got = getattr(cli.datamodule, key)
        else:
            got = cli.config[name]
        assert (list(got) if isinstance(got, (list, tuple)) else got) == pytest.approx(value), name


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_sweep_metric_is_summarised_by_its_best_value(path):
    metric = sweep(path)["metric"]
    assert SUMMARIES[metric["name"]] == {"maximize": "max", "minimize": "min"}[metric["goal"]]


def test_sweep_metric_in_a_run_summary_is_the_best_epoch_not_the_last(tmp_path, monkeypatch):
    from test_wandb_run import fit_scripted

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    metric = sweep(SWEEPS[0])["metric"]["name"]
    run = fit_scripted(tmp_path, [0.6, 0.8, 0.7], WandbRunSetup())
    assert run.history[metric][-1] == pytest.approx(0.7)
    assert run.summary[metric] == {"max": pytest.approx(0.8)}
    assert run.summary[f"best/{metric}"] == pytest.approx(0.8)


# ---- lit-ctr tune: the same search with Optuna --------------------------------------------


def test_tune_scores_each_trial_by_its_best_validation_and_applies_its_values(tmp_path, write_config):
    pytest.importorskip("optuna")
    from lit_ctr.tune import tune

    config = write_config("FM", max_epochs=3)
    spec = {
        "name": "fm-test",
        "method": "bayes",
        "metric": {"name": "val/auc", "goal": "maximize"},
        "command": ["${env}", "lit-ctr", "fit", "--config", str(config), "--config", "configs/wandb.yaml", "${args}"],
        "parameters": {"model.init_args.embed_dim": {"values": [2, 3]}, "model.init_args.embedding_l2": {"value": 0.0}},
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    study = tune(str(path), trials=2)
    assert len(study.trials) == 2
    for trial in study.trials:
        assert trial.value == max(trial.user_attrs["history"])  # the best validation, not the last
        assert trial.user_attrs["embed_dim"] == json.loads(trial.params["model.init_args.embed_dim"])


class PruningTrial:
    """An Optuna trial whose pruner says stop."""

    def __init__(self) -> None:
        self.reports: list[tuple[float, int]] = []

    def report(self, value, step):
        self.reports.append((value, step))

    def should_prune(self):
        return True

    def set_user_attr(self, key, value):
        pass


def test_tune_ends_a_trial_the_pruner_stops_after_reporting_its_epoch():
    optuna = pytest.importorskip("optuna")
    import torch

    from lit_ctr.tune import TrialReporter

    trial = PruningTrial()
    trainer = SimpleNamespace(callback_metrics={"val/auc": torch.tensor(0.75)}, sanity_checking=False, current_epoch=1)
    with pytest.raises(optuna.TrialPruned, match="val/auc 0.7500 at epoch 1"):
        TrialReporter(trial, "val/auc").on_validation_end(trainer, None)
    assert trial.reports == [(0.75, 1)]
