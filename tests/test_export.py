"""``lit-ctr export`` and ``lit_ctr.load_predictor``: one file scores raw rows like the model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
import yaml
from lit_ctr.cli import main
from synthetic_config import synthetic_data_config

from lit_ctr.data.rows import encode_rows
from lit_ctr.data.vocabulary import MISSING_ID, OOV_ID, Vocabulary
from lit_ctr.predictor import load_predictor
from lit_ctr.scoring import load_model, score

NAMES = ["I1", "I2"] + [f"C{i}" for i in range(1, 7)]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, synthetic_files) -> Path:
    """The best checkpoint of a small DeepFM (dropout and batch norm: eval mode matters)."""
    root = tmp_path_factory.mktemp("export")
    config = {
        "seed_everything": 0,
        "trainer": {
            "max_epochs": 1,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {
                "class_path": "lightning.pytorch.loggers.CSVLogger",
                "init_args": {"save_dir": str(root / "runs"), "name": "export", "version": 0},
            },
        },
        "model": {
            "class_path": "DeepFM",
            "init_args": {
                "embed_dim": 4,
                "hidden_units": [16, 8],
                "dropout": 0.2,
                "batch_norm": True,
                "optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.02}},
            },
        },
        "data": synthetic_data_config(synthetic_files, root / "cache"),
    }
    path = root / "deepfm.yaml"
    path.write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(path)])
    return root / "runs" / "export" / "version_0" / "checkpoints" / "best.ckpt"


@pytest.fixture(scope="module")
def raw_rows(synthetic_files) -> pl.DataFrame:
    """Test rows without the label, plus rows with unseen and missing values."""
    raw = pl.read_csv(synthetic_files["test"], separator="\t", has_header=False, infer_schema=False)
    rows = raw.drop(raw.columns[0]).head(200)
    rows.columns = NAMES
    odd = pl.DataFrame(
        {
            "I1": [None, "", "3.5", "-2", "1e6"],
            "I2": ["7", None, "", "123456789", "0"],  # 123456789 buckets to an unseen bucket
            **{f"C{i}": ["never-seen", None, "", "zzz", "also-unseen"] for i in range(1, 7)},
        }
    )
    return pl.concat([rows, odd])


@pytest.fixture(scope="module")
def torchscript_file(checkpoint: Path) -> Path:
    output = checkpoint.parent.parent / "model.pt"
    main(["export", "--ckpt_path", str(checkpoint), "--format", "torchscript", "--output", str(output)])
    return output


def test_raw_rows_cover_unseen_and_missing_values(checkpoint, raw_rows):
    preprocessing = load_model(checkpoint).preprocessing
    offsets = np.asarray(Vocabulary.from_dict(preprocessing["vocabulary"]).offsets)
    local = np.asarray(encode_rows(preprocessing, raw_rows).ids)[-5:] - offsets
    assert (local == OOV_ID).any() and (local == MISSING_ID).any()


def test_torchscript_export_predicts_raw_rows_like_the_lightning_module(checkpoint, torchscript_file, raw_rows):
    expected = score(checkpoint, raw_rows)
    got = load_predictor(torchscript_file).predict(raw_rows)
    assert got.shape == expected.shape == (raw_rows.height,)
    assert np.max(np.abs(got - expected)) < 1e-5


def test_onnx_export_predicts_raw_rows_like_the_lightning_module(checkpoint, raw_rows):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    output = checkpoint.parent.parent / "model.onnx"
    main(["export", "--ckpt_path", str(checkpoint), "--format", "onnx", "--output", str(output)])
    predictor = load_predictor(output)
    assert predictor.kind == "onnx"
    assert np.max(np.abs(predictor.predict(raw_rows) - score(checkpoint, raw_rows))) < 1e-5


def test_torchscript_file_loads_with_torch_jit_load_and_holds_the_vocabulary(checkpoint, torchscript_file, raw_rows):
    extra = {"lit_ctr.json": ""}
    module = torch.jit.load(str(torchscript_file), _extra_files=extra)
    metadata = json.loads(extra["lit_ctr.json"])
    assert metadata["preprocessing"]["vocabulary"] == load_model(checkpoint).preprocessing["vocabulary"]
    arrays = encode_rows(metadata["preprocessing"], raw_rows)
    probabilities = module(torch.from_numpy(arrays.ids), torch.from_numpy(arrays.numeric))
    assert np.max(np.abs(probabilities.detach().numpy() - score(checkpoint, raw_rows))) < 1e-5


def test_predictor_scores_dicts_frames_and_csv_files_alike(torchscript_file, raw_rows, tmp_path):
    predictor = load_predictor(torchscript_file)
    expected = predictor.predict(raw_rows)
    csv = tmp_path / "rows.csv"
    raw_rows.write_csv(csv)
    assert np.array_equal(
        predictor.predict(str(csv), file_format={"kind": "csv"}), expected
    )  # trained on headerless TSV
    assert np.array_equal(predictor.predict(raw_rows.to_dicts()), expected)
    pandas = pytest.importorskip("pandas")
    assert np.array_equal(predictor.predict(pandas.DataFrame(raw_rows.to_dicts())), expected)


def test_predictor_needs_neither_the_model_classes_nor_a_config(torchscript_file, raw_rows, tmp_path):
    csv = tmp_path / "rows.csv"
    raw_rows.write_csv(csv)
    code = (
        "import sys, lit_ctr\n"
        f"p = lit_ctr.load_predictor({str(torchscript_file)!r}).predict({str(csv)!r}, file_format={{'kind': 'csv'}})\n"
        "assert 'lit_ctr.models' not in sys.modules and 'lit_ctr.scoring' not in sys.modules, sorted(sys.modules)\n"
        "print(len(p))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(raw_rows.height)


def test_help_lists_the_export_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "lit-ctr export --ckpt_path" in capsys.readouterr().out.replace("\n", " ")


def test_importing_lit_ctr_stays_light_until_load_predictor_is_used():
    code = "import sys, lit_ctr; assert 'torch' not in sys.modules and 'polars' not in sys.modules; print(callable(lit_ctr.load_predictor))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def _model_classes() -> list[type]:
    import lit_ctr.models
    from lit_ctr.models import CTRModule

    found = (getattr(lit_ctr.models, name) for name in lit_ctr.models.__all__)
    return [m for m in found if isinstance(m, type) and issubclass(m, CTRModule) and m is not CTRModule]


@pytest.mark.parametrize("model_class", _model_classes(), ids=lambda m: m.__name__)
def test_every_model_traces_to_an_artifact_that_matches_it(model_class, tmp_path):
    import inspect

    from lit_ctr import export as exporter

    accepted = inspect.signature(model_class).parameters
    small = {k: v for k, v in {"embed_dim": 4, "hidden_units": [8]}.items() if k in accepted}
    model = model_class(field_dims=[5, 7, 9], num_numeric=2, **small).eval()
    preprocessing = {
        "vocabulary": {
            "fields": [{"name": f"C{i}", "values": [str(v) for v in range(n - 2)]} for i, n in enumerate([5, 7, 9])]
        }
    }
    graph = exporter._Probabilities(model).eval()
    ids, numeric = exporter._example_inputs(preprocessing, 2, rows=7, seed=1)
    with torch.no_grad():
        expected = graph(ids, numeric).numpy()
    metadata = {"format": "lit-ctr", "format_version": 1, "preprocessing": preprocessing}
    formats = ["torchscript"] + (["onnx"] if _has("onnx") and _has("onnxruntime") else [])
    for format in formats:
        target = tmp_path / f"model.{format}"
        model._jit_is_scripting = True
        write = exporter._write_torchscript if format == "torchscript" else exporter._write_onnx
        write(graph, exporter._example_inputs(preprocessing, 2, rows=4), metadata, target)
        model._jit_is_scripting = False
        got = load_predictor(target).network(ids.numpy(), numeric.numpy())
        assert np.max(np.abs(np.asarray(got).reshape(-1) - expected)) < 1e-5, format


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
