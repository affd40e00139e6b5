"""Every model exported by ``lit_ctr.models`` trains, tests, reloads and predicts from the CLI."""

from __future__ import annotations

import inspect

import numpy as np
import polars as pl
import pytest
from lit_ctr.cli import main

import lit_ctr.models
from lit_ctr.models import CTRModule

MODELS = [
    model
    for model in (getattr(lit_ctr.models, name) for name in lit_ctr.models.__all__)
    if isinstance(model, type) and issubclass(model, CTRModule) and model is not CTRModule
]
# Small networks keep the round trip fast; models without these arguments get their defaults.
SMALL = {"embed_dim": 4, "hidden_units": [16]}


def test_the_family_is_exported():
    assert {"LR", "FM", "DeepFM", "NFM", "WideDeep", "PNN", "DCN"} <= {m.__name__ for m in MODELS}
    assert {"AFM", "FFM", "FwFM", "xDeepFM", "AutoInt", "DCNv2", "FiBiNET", "FinalMLP"} <= {m.__name__ for m in MODELS}


@pytest.mark.parametrize("model_class", MODELS, ids=lambda m: m.__name__)
def test_fit_test_load_and_predict_round_trip(model_class, write_config, synthetic_files, tmp_path):
    accepted = inspect.signature(model_class).parameters
    config = write_config(model_class.__name__, {k: v for k, v in SMALL.items() if k in accepted}, max_epochs=1)
    run = tmp_path / "runs" / "test" / "version_0"
    main(["fit", "--config", str(config)])
    best = run / "checkpoints" / "best.ckpt"

    main(["test", "--config", str(config), "--ckpt_path", str(best)])
    assert pl.read_csv(run / "metrics.csv").drop_nulls("test/auc").height == 1

    model = model_class.load_from_checkpoint(best, weights_only=True)
    assert model.hparams["field_dims"] and type(model) is model_class

    output = tmp_path / "scores.csv"
    main(
        [
            "predict", "--config", str(config), "--ckpt_path", str(best),
            "--data.predict_path", str(synthetic_files["test"]), "--predictions.output", str(output),
        ]
    )  # fmt: skip
    probabilities = pl.read_csv(output)["probability"].to_numpy()
    rows = sum(1 for line in open(synthetic_files["test"]) if line.strip())
    assert probabilities.shape == (rows,)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
