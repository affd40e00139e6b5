"""``compile: true``: the training step runs through torch.compile, with the Trainer, the
checkpoint and the export unchanged."""

from __future__ import annotations

import inspect

import polars as pl
import pytest
import torch
from lit_ctr.cli import main

import lit_ctr.models
from lit_ctr.models import CTRModule, DeepFM
from lit_ctr.predictor import load_predictor

MODELS = [
    model
    for model in (getattr(lit_ctr.models, name) for name in lit_ctr.models.__all__)
    if isinstance(model, type) and issubclass(model, CTRModule) and model is not CTRModule
]
FIELD_DIMS = [4, 6, 3]
SMALL = {"embed_dim": 4, "hidden_units": [8], "batch_norm": True, "dropout": 0.2, "embedding_l2": 0.01}


def small_batch(rows: int = 32) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    offsets = torch.tensor([0, 4, 10])
    ids = torch.stack([torch.randint(0, d, (rows,), generator=generator) for d in FIELD_DIMS], 1) + offsets
    return {
        "ids": ids.int(),
        "numeric": torch.rand(rows, 2, generator=generator),
        "label": torch.randint(0, 2, (rows,), generator=generator).float(),
    }


def small_model(model_class: type[CTRModule], **overrides: object) -> CTRModule:
    accepted = inspect.signature(model_class).parameters
    settings = {k: v for k, v in SMALL.items() if k in accepted or k == "embedding_l2"}
    return model_class(FIELD_DIMS, 2, **{**settings, **overrides})


@pytest.mark.parametrize("model_class", MODELS, ids=lambda m: m.__name__)
def test_training_objective_compiles_into_one_graph(model_class):
    model = small_model(model_class).train()
    model.configure_model()
    explanation = torch._dynamo.explain(model.training_objective)(small_batch())
    assert explanation.graph_break_count == 0, [str(r.reason) for r in explanation.break_reasons]
    assert explanation.graph_count == 1


def test_compile_false_leaves_the_step_eager():
    model = small_model(DeepFM)
    model.configure_model()
    assert model._objective is None


def test_compile_is_a_hyper_parameter_saved_with_the_model():
    assert small_model(DeepFM, compile=True).hparams["compile"] is True


@pytest.fixture
def traced_compile(monkeypatch):
    """torch.compile with dynamo's graph capture but the eager backend: the wiring is tested
    in seconds; the inductor run is the slow test below."""
    calls = []
    real = torch.compile

    def compile_eagerly(function, **options):
        calls.append(function)
        return real(function, backend="eager", **options)

    monkeypatch.setattr(torch, "compile", compile_eagerly)
    return calls


def test_compile_true_fits_tests_and_exports_through_the_cli(traced_compile, write_config, synthetic_files, tmp_path):
    config = write_config("DeepFM", {**SMALL, "compile": True}, max_epochs=1)
    run = tmp_path / "runs" / "test" / "version_0"
    main(["fit", "--config", str(config)])
    assert [f.__name__ for f in traced_compile] == ["training_objective"]
    best = run / "checkpoints" / "best.ckpt"
    main(["test", "--config", str(config), "--ckpt_path", str(best)])
    assert pl.read_csv(run / "metrics.csv").drop_nulls("test/auc").height == 1
    exported = tmp_path / "model.pt"
    main(["export", "--ckpt_path", str(best), "--format", "torchscript", "--output", str(exported)])
    names = ["label", "I1", "I2", *(f"C{i}" for i in range(1, 7))]
    rows = pl.read_csv(synthetic_files["test"], separator="\t", has_header=False, new_columns=names).head(5)
    assert load_predictor(exported).predict(rows.drop("label")).shape == (5,)


def test_a_smaller_last_batch_reuses_the_compiled_graph(traced_compile):
    torch._dynamo.reset()  # graphs other tests compiled for other shapes
    model = small_model(DeepFM, compile=True).train()
    model.configure_model()
    with torch._dynamo.config.patch(error_on_recompile=True):
        model._objective(small_batch(32))
        model._objective(small_batch(7))


@pytest.mark.slow
def test_inductor_compiled_step_matches_the_eager_step():
    # No dropout, so both steps compute the same function (batch norm in training mode does).
    torch._dynamo.reset()
    eager = small_model(DeepFM, dropout=0.0).train()
    compiled = small_model(DeepFM, dropout=0.0, compile=True).train()
    compiled.load_state_dict(eager.state_dict())
    for model in (eager, compiled):
        model.configure_model()
    batch = small_batch()
    results = []
    for model, objective in ((eager, eager.training_objective), (compiled, compiled._objective)):
        value = objective(batch)[1]
        value.backward()
        results.append((value.detach(), [p.grad.clone() for p in model.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    # atol 5e-5: a Linear's bias before batch norm has a true gradient of 0, and the two
    # orders of summation leave float noise of ~1e-5 there.
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=5e-5)
