"""A checkpoint never chooses the code that runs; a bad one is one located CheckpointError;
its model class and hyper-parameters are checked against the command line."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import run_dir
from lit_ctr.cli import main

from lit_ctr import load_predictor
from lit_ctr.checkpoint import load_model, resolve_model_class
from lit_ctr.errors import CheckpointError, ConfigError
from lit_ctr.export import export
from lit_ctr.models import FM, DeepFM
from lit_ctr.scoring import score

ROWS = [{"I1": "1", "I2": "2", "C1": "a", "C2": "b", "C3": "c", "C4": "d", "C5": "e", "C6": "f"}]


@pytest.fixture(scope="module")
def best(reference_run) -> Path:
    return run_dir(reference_run) / "checkpoints" / "best.ckpt"


@pytest.fixture
def hostile(best, tmp_path, monkeypatch) -> Path:
    """A copy of a good checkpoint naming ``helpers.Evil``, beside a helpers.py that would
    write ``ran`` when imported; the folder is the working directory and on sys.path."""
    raw = torch.load(best, weights_only=True)
    raw["lit_ctr"]["model_class"] = "helpers.Evil"
    raw["hyper_parameters"]["_class_path"] = "helpers.Evil"
    path = tmp_path / "downloaded.ckpt"
    torch.save(raw, path)
    (tmp_path / "helpers.py").write_text(
        f"open({str(tmp_path / 'ran')!r}, 'w').write('imported')\nfrom lit_ctr.models import FM as Evil\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return path


# ---------------------------------------------------------------------- resolve_model_class
def test_resolve_model_class_finds_lit_ctrs_models_by_short_and_format_1_names():
    assert resolve_model_class("DeepFM") is DeepFM
    assert resolve_model_class("lit_ctr.models.deepfm.DeepFM") is DeepFM
    assert resolve_model_class("lit_ctr.models.FM") is FM


def test_resolve_model_class_refuses_any_other_name_and_says_how_to_load_it():
    with pytest.raises(CheckpointError, match=r"names the model class 'mypkg\.MyFM'.*model_class=") as info:
        resolve_model_class("mypkg.MyFM", file="x.ckpt")
    assert info.value.file == "x.ckpt"


def test_resolve_model_class_refuses_a_lit_ctr_name_in_another_module():
    with pytest.raises(CheckpointError):
        resolve_model_class("lit_ctr.models.evil.FM")


def test_resolve_model_class_uses_the_class_the_caller_names():
    assert resolve_model_class("mypkg.MyFM", model_class=DeepFM) is DeepFM
    assert resolve_model_class("mypkg.MyFM", model_class="lit_ctr.models.FM") is FM


# ---------------------------------------------------------------------- hostile checkpoint
@pytest.mark.parametrize("load", [score, lambda p, rows: load_predictor(p), lambda p, rows: export(str(p))])
def test_hostile_checkpoint_is_refused_and_its_module_never_imported(hostile, load):
    with pytest.raises(CheckpointError, match=r"downloaded\.ckpt: names the model class 'helpers\.Evil'"):
        load(hostile, ROWS)
    assert not (hostile.parent / "ran").exists()


@pytest.mark.parametrize("command", ["test", "predict"])
def test_hostile_checkpoint_on_the_command_line_is_refused_and_never_imported(hostile, reference_run, command):
    with pytest.raises(CheckpointError, match="'helpers.Evil', but the config names 'lit_ctr.models.FM'"):
        main([command, "--config", str(reference_run), "--ckpt_path", str(hostile), "--trainer.logger", "false"])
    assert not (hostile.parent / "ran").exists()


def test_a_class_the_user_names_loads_a_checkpoint_of_their_own_class(hostile):
    probabilities = score(hostile, ROWS, model_class=FM)
    assert probabilities.shape == (1,) and not (hostile.parent / "ran").exists()


# ---------------------------------------------------------------------- damaged checkpoints
def damaged(best: Path, folder: Path) -> dict[str, Path]:
    truncated = folder / "truncated.ckpt"
    truncated.write_bytes(best.read_bytes()[:4000])
    csv = folder / "rows.csv"
    csv.write_text("label,I1\n1,2\n")
    empty = folder / "empty.ckpt"
    empty.write_bytes(b"")
    return {"truncated": truncated, "csv": csv, "empty": empty, "folder": folder, "missing": folder / "nope.ckpt"}


MESSAGES = {
    "truncated": "is truncated or damaged",
    "csv": r"is not a checkpoint \(it starts with 'label,I1",
    "empty": "is an empty file",
    "folder": "is a directory",
    "missing": "no such",
}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_damaged_checkpoints_are_one_checkpoint_error_for_every_python_entry_point(best, tmp_path, kind):
    path = damaged(best, tmp_path)[kind]
    for load in (load_model, load_predictor, lambda p: score(p, ROWS), lambda p: export(str(p))):
        with pytest.raises(CheckpointError, match=MESSAGES[kind]) as info:
            load(path)
        assert info.value.file == str(path)


@pytest.mark.parametrize("command", ["validate", "test", "predict"])
def test_damaged_checkpoints_are_one_checkpoint_error_on_the_command_line(best, reference_run, tmp_path, command):
    path = damaged(best, tmp_path)["truncated"]
    with pytest.raises(CheckpointError, match="is truncated or damaged") as info:
        main([command, "--config", str(reference_run), "--ckpt_path", str(path), "--trainer.logger", "false"])
    assert info.value.file == str(path)


def test_export_of_a_missing_checkpoint_is_one_line(tmp_path, capsys, monkeypatch):
    from crash_helpers import error_lines
    from lit_ctr.cli import console_main

    monkeypatch.setattr("sys.argv", ["lit-ctr", "export", "--ckpt_path", str(tmp_path / "nope.ckpt")])
    with pytest.raises(SystemExit) as info:
        console_main()
    assert info.value.code == 2
    assert error_lines(capsys.readouterr().err) == [
        f"lit-ctr: error: {tmp_path / 'nope.ckpt'}: no such checkpoint file"
    ]


# ---------------------------------------------------------------------- --model and hyper-parameters
def test_a_model_other_than_the_checkpoints_is_refused_naming_both(best, reference_run):
    with pytest.raises(CheckpointError, match=r"holds a FM model, but the config names DeepFM"):
        main(["test", "--config", str(reference_run), "--model", "DeepFM", "--ckpt_path", str(best),
              "--trainer.logger", "false"])  # fmt: skip


def test_hyper_parameters_come_from_the_checkpoint_with_one_line_saying_so(best, reference_run, caplog):
    logger = logging.getLogger("lit_ctr")
    logger.addHandler(caplog.handler)
    try:  # the reference model has embed_dim 4; a config saying 8 must not break loading its weights
        main(["test", "--config", str(reference_run), "--model.init_args.embed_dim", "8", "--ckpt_path", str(best),
              "--trainer.logger", "false", "--plots.output_dir", str(best.parent / "plots")])  # fmt: skip
    finally:
        logger.removeHandler(caplog.handler)
    lines = [r.getMessage() for r in caplog.records if "hyper-parameters come from" in r.getMessage()]
    assert set(lines) == {
        f"lit-ctr: the model's hyper-parameters come from {best}: embed_dim 4 (config: 8)"
    }  # caplog may see it twice


# ---------------------------------------------------------------------- one scoring path
def test_score_is_load_predictor_predict(best):
    assert np.array_equal(score(best, ROWS * 3), load_predictor(best).predict(ROWS * 3))


def test_load_predictor_of_a_checkpoint_says_which_model_it_holds(best):
    predictor = load_predictor(best)
    assert predictor.kind == "checkpoint" and predictor.metadata["model_class"] == "FM"


def test_predict_batch_size_below_one_is_a_config_error(best):
    with pytest.raises(ConfigError, match=r"^batch_size: expected an integer >= 1, got 0$"):
        load_predictor(best).predict(ROWS, batch_size=0)


def test_checkpoint_copied_elsewhere_still_loads(best, tmp_path):
    copy = tmp_path / "model.ckpt"
    shutil.copy(best, copy)
    assert np.array_equal(score(copy, ROWS), score(best, ROWS))
