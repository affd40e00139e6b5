"""Checkpoints hold tensors and plain data only (``torch.load(weights_only=True)``); YAML is read safely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from conftest import run_dir
from lit_ctr.cli import main

from lit_ctr.checkpoint import find_preprocessing

PRIMITIVES = (type(None), bool, int, float, str)
ROOT = Path(__file__).resolve().parents[2]


def non_plain_leaves(value, where="checkpoint"):
    """Paths of every leaf that is neither a tensor nor a primitive."""
    if isinstance(value, dict):
        return [
            p
            for k, v in value.items()
            for p in ([f"{where}: key {k!r}"] if not isinstance(k, PRIMITIVES) else [])
            + non_plain_leaves(v, f"{where}[{k!r}]")
        ]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in non_plain_leaves(v, f"{where}[{i}]")]
    return [] if isinstance(value, PRIMITIVES) or torch.is_tensor(value) else [f"{where}: {type(value).__name__}"]


@pytest.fixture(scope="module")
def best_checkpoint(reference_run) -> dict:
    return torch.load(run_dir(reference_run) / "checkpoints" / "best.ckpt", weights_only=True)


def test_cli_checkpoint_loads_with_weights_only_and_holds_only_tensors_and_plain_data(best_checkpoint):
    assert non_plain_leaves(best_checkpoint) == []


def test_checkpoint_hyperparameters_are_primitives(best_checkpoint):
    hparams = best_checkpoint["hyper_parameters"]
    assert hparams["field_dims"] and all(type(d) is int for d in hparams["field_dims"])
    assert all(not torch.is_tensor(v) for v in hparams.values())
    assert non_plain_leaves(hparams) == []


def test_checkpoint_vocabulary_is_plain_lists_of_strings(best_checkpoint):
    state = find_preprocessing(best_checkpoint)
    fields = state["vocabulary"]["fields"]
    assert fields and all(type(f["values"]) is list and all(type(v) is str for v in f["values"]) for f in fields)
    assert type(state["schema"]) is dict and type(best_checkpoint["lit_ctr"]["model_class"]) is str


def test_yaml_config_cannot_run_python(tmp_path, capsys):
    marker = tmp_path / "ran"
    config = tmp_path / "evil.yaml"
    config.write_text(f'seed_everything: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(SystemExit):
        main(["fit", "--model", "FM", "--data", "SyntheticCTRDataModule", "--config", str(config)])
    assert not marker.exists()
    assert "could not determine a constructor for the tag" in capsys.readouterr().err


def test_library_code_reads_yaml_only_with_safe_loaders():
    unsafe = re.compile(r"yaml\.(load|load_all|unsafe_load|full_load)\(|yaml\.(Unsafe|Full)?Loader\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("lit_ctr", "cli")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if unsafe.search(line)
    ]
    assert offenders == []
