"""The embedding L2 reuses the rows the forward pass gathered, with the same value and gradient."""

from __future__ import annotations

import torch

from lit_ctr.layers.penalised_rows import PenalisedRows
from lit_ctr.models import FNN, DeepFM

FIELD_DIMS = [5, 7, 3]


def batch(rows: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    offsets = torch.tensor([0, 5, 12])
    ids = torch.stack([torch.randint(0, d, (rows,), generator=generator) for d in FIELD_DIMS], 1) + offsets
    return ids, torch.randn(rows, 2, generator=generator)


def second_lookup_penalty(model: torch.nn.Module, ids: torch.Tensor, l2: float) -> torch.Tensor:
    """What the penalty was before: every table looked up again, plus the numeric weights."""
    embedding = model.embedding.table.weight[ids].pow(2).sum() / len(ids) + model.embedding.numeric_vectors.pow(2).sum()
    linear = model.linear.table.weight[ids].pow(2).sum() / len(ids) + model.linear.numeric_weights.pow(2).sum()
    return l2 * (embedding + linear)


def penalty_and_grad(model: torch.nn.Module, ids: torch.Tensor, numeric: torch.Tensor, reference: bool):
    model.zero_grad()
    logits = model(ids, numeric)
    penalty = second_lookup_penalty(model, ids, model.embedding_l2) if reference else model.regularization(ids)
    (logits.sum() + penalty).backward()
    return penalty.detach(), model.embedding.table.weight.grad.clone(), model.linear.table.weight.grad.clone()


def assert_penalty_and_grads_match_a_second_lookup(model) -> None:
    model.configure_model()
    ids, numeric = batch()
    ours = penalty_and_grad(model, ids, numeric, reference=False)
    theirs = penalty_and_grad(model, ids, numeric, reference=True)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_embedding_l2_from_gathered_rows_matches_a_second_lookup() -> None:
    model = DeepFM(FIELD_DIMS, num_numeric=2, embed_dim=4, hidden_units=[8], embedding_l2=0.05).train()
    assert_penalty_and_grads_match_a_second_lookup(model)


def test_gathered_rows_are_kept_only_when_the_l2_is_on() -> None:
    model = DeepFM(FIELD_DIMS, num_numeric=2, embed_dim=4, hidden_units=[8]).train()
    model.configure_model()
    model(*batch())
    assert all(layer._kept is None for layer in model.modules() if isinstance(layer, PenalisedRows))


def test_gathered_rows_are_used_once() -> None:
    model = DeepFM(FIELD_DIMS, num_numeric=2, embed_dim=4, hidden_units=[8], embedding_l2=0.05).train()
    model.configure_model()
    ids, numeric = batch()
    model(ids, numeric)
    model.regularization(ids)
    assert all(layer._kept is None for layer in model.modules() if isinstance(layer, PenalisedRows))


def test_an_evaluation_pass_keeps_no_rows() -> None:
    model = DeepFM(FIELD_DIMS, num_numeric=2, embed_dim=4, hidden_units=[8], embedding_l2=0.05).eval()
    model.configure_model()
    model(*batch())
    assert model.embedding._kept is None and model.linear._kept is None


def test_a_layer_the_forward_did_not_call_is_looked_up_for_its_l2() -> None:
    # FNN reads linear.table directly, so FeaturesLinear.forward never runs in its step.
    model = FNN(FIELD_DIMS, num_numeric=2, embed_dim=4, hidden_units=[8], embedding_l2=0.05).train()
    assert_penalty_and_grads_match_a_second_lookup(model)
