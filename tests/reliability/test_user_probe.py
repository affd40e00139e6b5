"""The probe of issue 12: a new user's own checkpoints, exports, configs and mistakes.

Each case ends right or in one located LitCtrError (docs/errors.md lists every message).
The last tests walk a table of bad commands through the real ``lit-ctr`` console script:
non-zero exit, exactly one ``lit-ctr: error:`` line, no traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import run_dir
from crash_helpers import error_lines, run_console
from lit_ctr.cli import main

from lit_ctr import load_predictor
from lit_ctr.data import DataError
from lit_ctr.errors import CheckpointError, ConfigError
from lit_ctr.export import export
from lit_ctr.scoring import score

ROWS = [{"I1": "1", "I2": "2", "C1": "a", "C2": "b", "C3": "c", "C4": "d", "C5": "e", "C6": "f"}]


@pytest.fixture(scope="module")
def best(reference_run) -> Path:
    return run_dir(reference_run) / "checkpoints" / "best.ckpt"


@pytest.fixture(scope="module")
def exported(best, tmp_path_factory) -> Path:
    return export(str(best), output=str(tmp_path_factory.mktemp("probe_export") / "model.pt"))


def edited(best: Path, folder: Path, name: str, edit) -> Path:  # noqa: ANN001
    raw = torch.load(best, weights_only=True)
    edit(raw)
    path = folder / name
    torch.save(raw, path)
    return path


# ---------------------------------------------------------------------- checkpoints
def test_a_saved_tensor_is_not_a_lightning_checkpoint(tmp_path):
    torch.save(torch.zeros(3), tmp_path / "tensor.ckpt")
    with pytest.raises(CheckpointError, match=r"tensor\.ckpt: not a Lightning checkpoint \(no state_dict inside\)"):
        load_predictor(tmp_path / "tensor.ckpt")


def test_a_checkpoint_holding_python_objects_is_refused_unopened(tmp_path):
    torch.save({"state_dict": {}, "args": argparse.Namespace(lr=1)}, tmp_path / "objects.ckpt")
    with pytest.raises(CheckpointError, match="holds Python objects beyond tensors and plain data"):
        load_predictor(tmp_path / "objects.ckpt")


def test_hyper_parameters_that_do_not_fit_the_weights_name_the_mismatch(best, tmp_path):
    path = edited(best, tmp_path, "edited.ckpt", lambda raw: raw["hyper_parameters"].update(embed_dim=7))
    with pytest.raises(CheckpointError, match=r"edited\.ckpt: its model does not load as FM \(.*size mismatch"):
        score(path, ROWS)


def test_a_format_2_checkpoint_without_lit_ctrs_model_entry_loads_by_its_lightning_class_path(best, tmp_path):
    path = edited(best, tmp_path, "format2.ckpt", lambda raw: raw.pop("lit_ctr"))
    assert np.array_equal(score(path, ROWS), score(best, ROWS))


def test_a_model_class_entry_that_is_not_a_name_is_refused(best, tmp_path):
    path = edited(best, tmp_path, "odd.ckpt", lambda raw: raw["lit_ctr"].update(model_class=5))
    with pytest.raises(CheckpointError, match="names the model class 5, which is not one of lit-ctr's models"):
        load_predictor(path)


def test_a_model_class_the_user_names_that_cannot_be_imported_is_named(best):
    with pytest.raises(CheckpointError, match=r"model class 'nopkg\.MyFM': cannot import it \(No module named"):
        load_predictor(best, model_class="nopkg.MyFM")


def test_a_model_class_the_user_names_that_is_not_a_class_is_refused(best):
    with pytest.raises(CheckpointError, match=r"model class 'os\.path': expected a class"):
        load_predictor(best, model_class="os.path")


def test_scoring_an_empty_list_of_rows_says_it_has_no_columns(best):
    with pytest.raises(DataError, match=r"<rows>: the rows lack schema column\(s\) \['I1', 'I2', 'C1'"):
        score(best, [])


# ---------------------------------------------------------------------- exports
def test_export_into_a_folder_is_a_config_error(best, tmp_path):
    with pytest.raises(ConfigError, match=r"^output: .* is a directory; expected the file to write"):
        export(str(best), output=str(tmp_path))


def test_export_format_outside_its_choices_is_a_config_error(best):
    with pytest.raises(ConfigError, match=r"^format: expected one of \['onnx', 'torchscript'\], got 'pdf'$"):
        export(str(best), format="pdf")


def test_export_of_a_user_class_checkpoint_takes_the_class_the_user_names(best, tmp_path):
    path = edited(best, tmp_path, "mine.ckpt", lambda raw: raw["lit_ctr"].update(model_class="mypkg.MyFM"))
    with pytest.raises(CheckpointError, match="lit-ctr export --model"):
        export(str(path))
    target = export(str(path), output=str(tmp_path / "mine.pt"), model="lit_ctr.models.FM")
    assert np.max(np.abs(load_predictor(target).predict(ROWS) - score(best, ROWS))) < 1e-5


def test_a_truncated_export_is_named_damaged(exported, tmp_path):
    path = tmp_path / "cut.pt"
    path.write_bytes(exported.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match=r"cut\.pt: is truncated or damaged"):
        load_predictor(path)


def test_a_torchscript_file_not_written_by_lit_ctr_is_named(tmp_path):
    torch.jit.script(torch.nn.Linear(2, 1)).save(str(tmp_path / "other.pt"))
    with pytest.raises(CheckpointError, match="TorchScript file without lit-ctr's preprocessing inside"):
        load_predictor(tmp_path / "other.pt")


def test_a_file_named_onnx_that_is_not_onnx_is_named(tmp_path):
    (tmp_path / "model.onnx").write_text("hello")
    with pytest.raises(CheckpointError, match=r"model\.onnx: not a TorchScript or ONNX file \("):
        load_predictor(tmp_path / "model.onnx")


def test_an_export_from_a_newer_lit_ctr_says_so(exported, tmp_path):
    extra = {"lit_ctr.json": ""}
    module = torch.jit.load(str(exported), _extra_files=extra)
    metadata = {**json.loads(extra["lit_ctr.json"]), "format_version": 99}
    module.save(str(tmp_path / "newer.pt"), _extra_files={"lit_ctr.json": json.dumps(metadata)})
    with pytest.raises(CheckpointError, match=r"newer\.pt: written by a newer lit-ctr \(format 99\)"):
        load_predictor(tmp_path / "newer.pt")


def test_an_export_scores_like_its_checkpoint(exported, best):
    assert np.max(np.abs(load_predictor(exported).predict(ROWS * 5) - score(best, ROWS * 5))) < 1e-5


# ---------------------------------------------------------------------- the command line
def test_a_binary_file_given_as_config_is_one_config_error(best):
    with pytest.raises(ConfigError, match=r"^--config: expected a YAML or JSON text file"):
        main(["fit", "--config", str(best)])


def test_a_trainer_argument_lightning_refuses_is_named_after_the_trainer(fit_config):
    with pytest.raises(ConfigError, match=r"^trainer: `max_epochs` must be a non-negative integer or -1"):
        main(["fit", "--config", str(fit_config()), "--trainer.max_epochs", "-5"])


def test_ckpt_path_last_for_test_is_the_last_checkpoint_of_the_checkpoint_folder(reference_run, best, tmp_path, caplog):
    logger = logging.getLogger("lit_ctr")
    logger.addHandler(caplog.handler)
    try:
        main(["test", "--config", str(reference_run), "--ckpt_path", "last", "--trainer.logger", "false",
              "--checkpoint.dirpath", str(best.parent), "--plots.output_dir", str(tmp_path)])  # fmt: skip
    finally:
        logger.removeHandler(caplog.handler)
    assert f"lit-ctr: --ckpt_path last is {best.parent / 'last.ckpt'}" in caplog.messages


def test_a_missing_ckpt_path_for_test_names_the_file(reference_run, tmp_path):
    with pytest.raises(CheckpointError, match=r"nope\.ckpt: no such checkpoint file"):
        main(["test", "--config", str(reference_run), "--ckpt_path", str(tmp_path / "nope.ckpt")])


def test_resume_with_an_architecture_the_checkpoint_lacks_is_refused(reference_run, best):
    with pytest.raises(CheckpointError, match="holds a FM model, but the config names NFM"):
        main(["fit", "--config", str(reference_run), "--model", "NFM", "--ckpt_path", str(best)])


# ---------------------------------------------------------------------- the console script
@pytest.fixture(scope="module")
def console_cases(best, reference_run, tmp_path_factory) -> dict[str, tuple[list[str], str, str | None]]:
    """name -> (arguments, a part of the one error line, working directory)."""
    folder = tmp_path_factory.mktemp("console")
    truncated = folder / "truncated.ckpt"
    truncated.write_bytes(best.read_bytes()[:4000])
    (folder / "rows.csv").write_text("label,I1\n1,2\n")
    hostile = edited(best, folder, "downloaded.ckpt", lambda raw: raw["lit_ctr"].update(model_class="helpers.Evil"))
    (folder / "helpers.py").write_text(f"open({str(folder / 'ran')!r}, 'w').write('imported')\n")
    unpinned = yaml.safe_load(reference_run.read_text())
    unpinned["trainer"]["logger"]["init_args"] = {"save_dir": str(folder / "runs"), "name": "new"}
    (folder / "unpinned.yaml").write_text(yaml.safe_dump(unpinned))
    config = ["--config", str(reference_run)]
    return {
        "batch size 0": (["fit", *config, "--data.init_args.batch_size", "0"], "data.batch_size: expected", None),
        "chunk_rows 0": (["fit", *config, "--data.init_args.chunk_rows", "0"], "data.chunk_rows: expected", None),
        "negative lr": (["fit", *config, "--model.init_args.optimizer.init_args.lr", "-1"], "model.optimizer:", None),
        "unknown model": (["fit", *config, "--model", "DeepFn"], "model: unknown class 'DeepFn'", None),
        "wrong type": (["fit", *config, "--model.init_args.embed_dim", "four"], "model.embed_dim: Expected", None),
        "missing config": (["fit", "--config", str(folder / "nope.yaml")], "config: File does not exist", None),
        "devices 0": (["fit", *config, "--trainer.devices", "0"], "trainer: `Trainer(devices='0')`", None),
        "missing train file": (["fit", *config, "--data.init_args.train_path", "nope.tsv"], "nope.tsv: no such", None),
        "truncated ckpt": (["test", *config, "--ckpt_path", str(truncated)], "is truncated or damaged", None),
        "folder as ckpt": (["predict", *config, "--ckpt_path", str(folder)], "is a directory", None),
        "model mismatch": (["test", *config, "--model", "DeepFM", "--ckpt_path", str(best)], "holds a FM model", None),
        "hostile ckpt": (["test", *config, "--ckpt_path", str(hostile)], "'helpers.Evil'", str(folder)),
        "export missing": (["export", "--ckpt_path", str(folder / "nope.ckpt")], "no such checkpoint file", None),
        "export a csv": (["export", "--ckpt_path", str(folder / "rows.csv")], "is not a checkpoint", None),
        "resume nothing": (["fit", "--config", str(folder / "unpinned.yaml"), "--ckpt_path", "last"], "no last", None),
    }


def walk(cases: dict[str, tuple[list[str], str, str | None]]) -> list[str]:
    """Run every case (a few at a time); the problems found, one line each."""

    def run(name: str) -> str | None:
        args, expected, cwd = cases[name]
        result = run_console(*args, cwd=cwd)
        lines = error_lines(result.stderr)
        if result.returncode == 0 or "Traceback" in result.stderr or len(lines) != 1 or expected not in lines[0]:
            return f"{name}: exit {result.returncode}, error lines {lines}, stderr tail {result.stderr[-300:]!r}"
        return None

    with ThreadPoolExecutor(3) as pool:
        return [problem for problem in pool.map(run, sorted(cases)) if problem]


# One case per path an error takes to the console (each subprocess costs ~5 s of startup);
# the slow variant below walks the rest of the table.
FAST = ["batch size 0", "wrong type", "negative lr", "devices 0", "truncated ckpt", "hostile ckpt",
        "model mismatch", "export missing", "resume nothing"]  # fmt: skip


def test_the_console_script_ends_every_bad_command_in_one_error_line(console_cases):
    assert walk({name: console_cases[name] for name in FAST}) == []
    hostile_folder = Path(console_cases["hostile ckpt"][2])
    assert not (hostile_folder / "ran").exists()


@pytest.mark.slow
def test_the_console_script_ends_more_bad_commands_in_one_error_line(console_cases, best, reference_run, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("trainer: [unclosed\n")
    config = ["--config", str(reference_run)]
    cases = {
        "no subcommand": ([], 'expected "subcommand"', None),
        "broken yaml": (["fit", "--config", str(broken)], "Problems parsing config", None),
        "binary config": (["fit", "--config", str(best)], "--config: expected a YAML or JSON text file", None),
        "max_epochs -5": (["fit", *config, "--trainer.max_epochs", "-5"], "trainer: `max_epochs`", None),
        "unknown key": (["fit", *config, "--trainer.max_epochz", "3"], "unrecognized arguments", None),
        "export format": (["export", "--ckpt_path", str(best), "--format", "pdf"], "format: Expected", None),
        "export no ckpt": (["export"], "required: ckpt_path", None),
        "empty ckpt": (["validate", *config, "--ckpt_path", str(tmp_path / "empty.ckpt")], "empty file", None),
    }
    (tmp_path / "empty.ckpt").write_bytes(b"")
    rest = {name: case for name, case in console_cases.items() if name not in FAST}
    assert walk({**cases, **rest}) == []
