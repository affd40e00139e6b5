"""Adam and AdamW left to choose their kernel run the fused one; an explicit choice stands."""

from __future__ import annotations

from functools import partial

import torch

from lit_ctr.models import DeepFM
from lit_ctr.models._speed import prefer_fused


def deepfm(**training) -> DeepFM:
    torch.manual_seed(0)
    return DeepFM([5, 7], num_numeric=1, embed_dim=4, hidden_units=[8], **training)


def test_default_adam_runs_the_fused_kernel():
    optimizer = deepfm().configure_optimizers()
    assert isinstance(optimizer, torch.optim.Adam) and optimizer.defaults["fused"] is True


def test_fused_adamw_keeps_the_configured_hyperparameters():
    optimizer = deepfm(optimizer=partial(torch.optim.AdamW, lr=0.02, weight_decay=0.3)).configure_optimizers()
    assert type(optimizer) is torch.optim.AdamW and optimizer.defaults["fused"] is True
    assert optimizer.param_groups[0]["lr"] == 0.02 and optimizer.param_groups[0]["weight_decay"] == 0.3


def test_an_explicit_kernel_choice_is_kept():
    assert deepfm(optimizer=partial(torch.optim.Adam, fused=False)).configure_optimizers().defaults["fused"] is False
    assert deepfm(optimizer=partial(torch.optim.Adam, foreach=True)).configure_optimizers().defaults["fused"] is None


def test_other_optimizers_are_left_alone():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(3))], lr=0.1)
    assert prefer_fused(optimizer) is optimizer


def test_sparse_models_fuse_the_dense_optimizer_only():
    sparse, dense = deepfm(sparse=True).configure_optimizers()
    assert isinstance(sparse, torch.optim.SparseAdam) and dense.defaults["fused"] is True


def test_the_fused_step_is_the_same_adam_update():
    models = [deepfm(), deepfm()]
    optimizers = [
        prefer_fused(torch.optim.Adam(models[0].parameters(), lr=0.01)),
        torch.optim.Adam(models[1].parameters(), lr=0.01, fused=False),
    ]
    ids, numeric, label = torch.tensor([[0, 6], [3, 11]]), torch.randn(2, 1), torch.tensor([1.0, 0.0])
    for _ in range(3):
        for model, optimizer in zip(models, optimizers, strict=True):
            optimizer.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(model(ids, numeric), label).backward()
            optimizer.step()
    for fused, plain in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.allclose(fused, plain, atol=1e-6)
