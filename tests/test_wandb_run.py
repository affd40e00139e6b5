"""W&B runs as a W&B user expects them: best-value summaries, distinct names, own config files.

Every run here is a real offline W&B run, read back from its ``run-<id>.wandb`` file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.loggers import WandbLogger
from lit_ctr.cli import build_cli, main
from synthetic_config import synthetic_data_config
from test_wandb import read_wandb_records

from lit_ctr.callbacks import WandbRunSetup
from lit_ctr.callbacks.wandb_run import apply_wandb_run_defaults

wandb = pytest.importorskip("wandb")


class OfflineRunFile:
    """The summary, history, display name, group, tags and job type of one offline run."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.summary: dict = {}
        self.history: dict[str, list] = {}
        for record in read_wandb_records(next(run_dir.glob("run-*.wandb"))):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                self.name, self.group, self.job_type = (
                    record.run.display_name,
                    record.run.run_group,
                    record.run.job_type,
                )
                self.tags = list(record.run.tags)
                self.id = record.run.run_id
            elif kind == "summary":
                for item in record.summary.update:
                    self.summary[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
            elif kind == "history":
                for item in record.history.item:
                    self.history.setdefault(item.key or "/".join(item.nested_key), []).append(
                        json.loads(item.value_json)
                    )


def new_runs(wandb_dir: Path, before: set[Path]) -> list[Path]:
    return sorted(set(wandb_dir.glob("offline-run-*")) - before)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    yield tmp_path
    wandb.finish()
    wandb.teardown()


class ScriptedValidation(LightningModule):
    """Logs a given ``val/auc`` (and ``1 - val/auc`` as ``val/logloss``) per epoch: the
    best epoch is known in advance and is not the last."""

    def __init__(self, aucs: list[float]) -> None:
        super().__init__()
        self.aucs = aucs
        self.weight = torch.nn.Parameter(torch.ones(1))

    def training_step(self, batch, batch_idx):
        return (self.weight * batch[0]).sum()

    def validation_step(self, batch, batch_idx):
        auc = self.aucs[self.current_epoch]
        self.log("val/auc", auc)
        self.log("val/logloss", 1.0 - auc)

    def train_dataloader(self):
        return [torch.ones(2, 1)] * 2

    def val_dataloader(self):
        return [torch.ones(2, 1)]

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def fit_scripted(root: Path, aucs: list[float], callback: WandbRunSetup) -> OfflineRunFile:
    logger = WandbLogger(save_dir=str(root), project="scripted")
    trainer = Trainer(
        max_epochs=len(aucs),
        logger=logger,
        callbacks=[callback],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
        accelerator="cpu",
    )
    trainer.fit(ScriptedValidation(aucs))
    wandb.finish()
    wandb.teardown()  # the W&B service writes the run file out when it stops
    (run,) = new_runs(root / "wandb", set())
    return OfflineRunFile(run)


def test_run_summary_holds_the_best_val_auc_and_lowest_val_logloss_not_the_last(offline):
    run = fit_scripted(offline, [0.6, 0.8, 0.7], WandbRunSetup())
    assert run.history["val/auc"] == pytest.approx([0.6, 0.8, 0.7])
    assert run.summary["val/auc"] == {"max": pytest.approx(0.8)}
    assert run.summary["val/logloss"] == {"min": pytest.approx(0.2)}


def test_run_summary_names_the_best_epoch_and_its_metrics(offline):
    run = fit_scripted(offline, [0.6, 0.8, 0.7], WandbRunSetup())
    assert run.summary["best/epoch"] == 1
    assert run.summary["best/val/auc"] == pytest.approx(0.8)
    assert run.summary["best/val/logloss"] == pytest.approx(0.2)


def test_watch_logs_gradient_histograms_when_asked(offline):
    run = fit_scripted(offline, [0.6, 0.7], WandbRunSetup(watch="gradients", watch_log_freq=1))
    assert any(key.startswith("gradients/") for key in run.history)


def test_no_gradient_histograms_by_default(offline):
    run = fit_scripted(offline, [0.6, 0.7], WandbRunSetup())
    assert not any(key.startswith("gradients/") for key in run.history)


@pytest.mark.parametrize("bad", [{"mode": "maximum"}, {"watch": "weights"}, {"watch_log_freq": 0}])
def test_bad_options_are_refused_naming_the_key(bad):
    with pytest.raises(ValueError, match=f"wandb.{next(iter(bad))}"):
        WandbRunSetup(**bad)


# ---- names, groups and tags -------------------------------------------------------------


def wandb_config(tmp_path: Path, synthetic_files, **logger_args) -> Path:
    config = {
        "seed_everything": 7,
        "trainer": {
            "max_epochs": 2,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "log_every_n_steps": 5,
            "logger": {
                "class_path": "lightning.pytorch.loggers.WandbLogger",
                "init_args": {"save_dir": str(tmp_path / "runs"), "project": "lit-ctr-test", **logger_args},
            },
        },
        "model": {"class_path": "FM", "init_args": {"embed_dim": 4}},
        "data": synthetic_data_config(synthetic_files, tmp_path / "cache"),
    }
    path = tmp_path / "fm.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def logger_init(tmp_path, synthetic_files, *args, **logger_args) -> dict:
    cli = build_cli(["--config", str(wandb_config(tmp_path, synthetic_files, **logger_args)), *args], run=False)
    return cli.trainer.logger._wandb_init


def test_default_name_group_and_tags_say_model_data_and_seed(tmp_path, synthetic_files):
    init = logger_init(tmp_path, synthetic_files)
    data = Path(synthetic_files["train"]).parent.name.lower()
    assert init["name"].startswith(f"fm-{data}-seed7-")
    assert init["group"] == f"fm-{data}"
    assert init["tags"] == ["fm", data, "seed7"]


def test_name_group_and_tags_set_in_the_config_are_kept(tmp_path, synthetic_files):
    init = logger_init(tmp_path, synthetic_files, name="mine", group="g", tags=["t"])
    assert (init["name"], init["group"], init["tags"]) == ("mine", "g", ["t"])


def test_job_type_is_the_subcommand():
    config = {"trainer": {"logger": {"class_path": "lightning.pytorch.loggers.WandbLogger", "init_args": {}}}}
    apply_wandb_run_defaults(config, "test")
    assert config["trainer"]["logger"]["init_args"]["job_type"] == "test"


def test_other_loggers_are_left_alone():
    logger = {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": "runs"}}
    apply_wandb_run_defaults({"trainer": {"logger": logger}}, "fit")
    assert logger == {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": "runs"}}


def test_wandb_yaml_after_a_csv_config_does_not_carry_the_csv_name_over(tmp_path, synthetic_files):
    wandb_yaml = Path(__file__).parent.parent / "configs" / "wandb.yaml"
    config = wandb_config(tmp_path, synthetic_files)
    text = yaml.safe_load(config.read_text())
    text["trainer"]["logger"] = {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"name": "csv"}}
    config.write_text(yaml.safe_dump(text))
    cli = build_cli(["--config", str(config), "--config", str(wandb_yaml)], run=False)
    assert cli.trainer.logger._wandb_init["name"].startswith("fm-")


# ---- two real `lit-ctr fit` runs and a `lit-ctr test` run --------------------------------


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, synthetic_files):
    """Two ``lit-ctr fit`` runs of one config, then ``lit-ctr test`` of the first's best checkpoint."""
    root = tmp_path_factory.mktemp("wandb_run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WANDB_MODE", "offline")
        patch.setenv("WANDB_DIR", str(root))
        config = wandb_config(root, synthetic_files)
        runs = []
        for args in (["fit"], ["fit"], ["test"]):
            before = set((root / "runs" / "wandb").glob("offline-run-*"))
            if args == ["test"]:
                args = ["test", "--ckpt_path", str(runs[0].folder / "checkpoints" / "best.ckpt")]
            try:
                main([*args, "--config", str(config)])
            finally:
                wandb.finish()
                wandb.teardown()
            (new,) = new_runs(root / "runs" / "wandb", before)
            run = OfflineRunFile(new)
            run.folder = root / "runs" / "lit-ctr-test" / run.id
            runs.append(run)
    return root, runs


def test_two_runs_of_one_config_get_distinct_names(cli_runs):
    _, (first, second, _) = cli_runs
    assert first.name != second.name
    assert first.name.startswith("fm-") and first.group == second.group and first.job_type == "fit"


def test_each_run_saves_its_config_in_its_own_folder(cli_runs):
    root, (first, second, test) = cli_runs
    files = [run.folder / "config.yaml" for run in (first, second, test)]
    assert all(f.is_file() for f in files)
    assert (first.folder / "checkpoints" / "best.ckpt").is_file()
    names = [yaml.safe_load(f.read_text())["trainer"]["logger"]["init_args"]["name"] for f in files]
    assert len(set(names)) == 3  # each file is its own run's
    assert not (root / "runs" / "config.yaml").exists()


def test_fit_run_summary_holds_the_best_val_auc_of_its_history(cli_runs):
    _, (first, *_) = cli_runs
    assert first.summary["val/auc"] == {"max": pytest.approx(max(first.history["val/auc"]))}
    assert first.summary["best/val/auc"] == pytest.approx(max(first.history["val/auc"]))
    assert first.summary["best/epoch"] in (0, 1)


def test_test_run_summary_holds_the_test_metrics(cli_runs):
    _, (*_, test) = cli_runs
    assert test.job_type == "test"
    assert test.summary["test/auc"] == pytest.approx(test.history["test/auc"][-1])
    assert test.summary["test/logloss"] == pytest.approx(test.history["test/logloss"][-1])
