"""``lit-ctr test`` and ``predict`` with a fit's checkpoint write into that fit's run folder,
not into a new ``version_N`` beside it, and without a "dirpath has changed" warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml
from lit_ctr.cli import main
from synthetic_config import synthetic_data_config


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, synthetic_files) -> dict:
    """A one-epoch FM fit whose CSV logger names no version (so a later run would take version_1)."""
    root = tmp_path_factory.mktemp("runfolder")
    config = {
        "seed_everything": 0,
        "trainer": {
            "max_epochs": 1,
            "limit_train_batches": 3,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {
                "class_path": "lightning.pytorch.loggers.CSVLogger",
                "init_args": {"save_dir": str(root / "runs"), "name": "fm"},
            },
        },
        "model": {"class_path": "FM", "init_args": {"embed_dim": 4}},
        "data": {
            **synthetic_data_config(synthetic_files, root / "cache"),
        },
    }
    config["data"]["init_args"]["predict_path"] = str(synthetic_files["test"])
    path = root / "fm.yaml"
    path.write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(path)])
    run = root / "runs" / "fm" / "version_0"
    return {
        "config": path,
        "run": run,
        "ckpt": run / "checkpoints" / "best.ckpt",
        "fit_metrics": (run / "metrics.csv").read_text(),
    }


def _evaluate(fitted: dict, subcommand: str, *extra: str) -> list[str]:
    """Run ``lit-ctr <subcommand>`` on the fit's checkpoint; return the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main([subcommand, "--config", str(fitted["config"]), "--ckpt_path", str(fitted["ckpt"]), *extra])
    return [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def tested(fitted) -> list[str]:
    return _evaluate(fitted, "test")


def test_lit_ctr_test_writes_its_plots_into_the_fits_run_folder(fitted, tested):
    assert all((fitted["run"] / name).is_file() for name in ("roc.png", "calibration.png", "probabilities.png"))


def test_lit_ctr_test_makes_no_new_version_folder(fitted, tested):
    assert sorted(p.name for p in fitted["run"].parent.iterdir()) == ["version_0"]


def test_lit_ctr_test_logs_its_metrics_under_the_run_folder_and_keeps_the_fits_metrics(fitted, tested):
    assert "test/auc" in (fitted["run"] / "test" / "metrics.csv").read_text()
    assert (fitted["run"] / "metrics.csv").read_text() == fitted["fit_metrics"]


def test_lit_ctr_test_does_not_warn_that_the_checkpoint_dirpath_changed(tested):
    assert not [w for w in tested if "dirpath has changed" in w], tested


def test_lit_ctr_predict_writes_its_predictions_into_the_fits_run_folder(fitted, tested):
    caught = _evaluate(fitted, "predict")
    assert (fitted["run"] / "predictions.csv").is_file()
    assert sorted(p.name for p in fitted["run"].parent.iterdir()) == ["version_0"]
    assert not [w for w in caught if "dirpath has changed" in w], caught


def test_plots_go_to_the_folder_the_user_names(fitted, tested, tmp_path: Path):
    _evaluate(fitted, "test", "--plots.output_dir", str(tmp_path / "plots"))
    assert (tmp_path / "plots" / "roc.png").is_file()


def test_kept_columns_of_a_headerless_file_read_with_has_header_auto(fitted, tested, synthetic_files, tmp_path):
    output = tmp_path / "scores.csv"
    main(
        [
            "predict", "--config", str(fitted["config"]), "--ckpt_path", str(fitted["ckpt"]),
            "--data.predict_path", str(synthetic_files["test"]), "--data.predict_file_format.has_header", "auto",
            "--predictions.keep_columns", "[C1]", "--predictions.output", str(output),
        ]
    )  # fmt: skip
    first = synthetic_files["test"].read_text().splitlines()[0].split("\t")
    kept = output.read_text().splitlines()
    assert kept[0] == "C1,probability" and kept[1].split(",")[0] == first[3]  # label, I1, I2, C1


def test_a_fit_logged_under_a_relative_folder_is_tested_without_the_dirpath_warning(
    synthetic_files, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # save_dir: runs, as in configs/models/*.yaml
    config = {
        "trainer": {
            "max_epochs": 1,
            "limit_train_batches": 2,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {
                "class_path": "lightning.pytorch.loggers.CSVLogger",
                "init_args": {"save_dir": "runs", "name": "fm"},
            },
        },
        "model": {"class_path": "FM", "init_args": {"embed_dim": 4}},
        "data": synthetic_data_config(synthetic_files, tmp_path / "cache"),
    }
    Path("fm.yaml").write_text(yaml.safe_dump(config))
    main(["fit", "--config", "fm.yaml"])
    caught = _evaluate({"config": "fm.yaml", "ckpt": "runs/fm/version_0/checkpoints/best.ckpt"}, "test")
    assert not [w for w in caught if "dirpath has changed" in w], caught
    assert sorted(p.name for p in Path("runs/fm").iterdir()) == ["version_0"]
