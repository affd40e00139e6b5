"""lit-ctr's Linear: nn.Linear's values and gradients, with oneDNN doing large float32 CPU
training matmuls."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_ctr.layers import MLP, dense
from lit_ctr.layers.dense import Linear, onednn_linear_enabled

needs_onednn = pytest.mark.skipif(not onednn_linear_enabled(), reason="this torch build has no oneDNN")


def pair(in_features: int, out_features: int, bias: bool = True) -> tuple[nn.Linear, Linear]:
    torch.manual_seed(0)
    reference = nn.Linear(in_features, out_features, bias=bias)
    layer = Linear(in_features, out_features, bias=bias)
    layer.load_state_dict(reference.state_dict())
    return reference, layer


def forward_and_gradients(layer: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> list[torch.Tensor]:
    x = x.clone().requires_grad_(True)
    layer.zero_grad(set_to_none=True)
    out = layer(x)
    out.backward(grad)
    return [out.detach(), x.grad, *(p.grad for p in layer.parameters())]


def test_a_large_float32_training_layer_takes_onednn():
    _, layer = pair(dense._MIN_WIDTH, dense._MIN_WIDTH)
    x = torch.randn(dense._MIN_ROWS, dense._MIN_WIDTH)
    assert layer.train()._takes_onednn(x) == onednn_linear_enabled()


@needs_onednn
@pytest.mark.parametrize("bias", [True, False])
def test_values_and_gradients_match_nn_linear_to_float32_rounding(bias):
    reference, layer = pair(390, 400, bias)
    torch.manual_seed(1)
    x, grad = torch.randn(2048, 390), torch.randn(2048, 400)
    assert layer.train()._takes_onednn(x)
    for ours, theirs in zip(forward_and_gradients(layer, x, grad), forward_and_gradients(reference, x, grad)):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-4)


@needs_onednn
def test_inputs_with_more_dimensions_keep_their_leading_shape():
    reference, layer = pair(256, 256)
    x, grad = torch.randn(8, 256, 256), torch.randn(8, 256, 256)
    for ours, theirs in zip(forward_and_gradients(layer, x, grad), forward_and_gradients(reference, x, grad)):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    "case",
    ["eval", "no_grad", "small_batch", "narrow", "float64", "bf16_autocast", "opted_out"],
)
def test_everything_but_a_large_float32_training_step_is_nn_linear(case, monkeypatch):
    _, layer = pair(400, 400)
    layer.train()
    x = torch.randn(2048, 400)
    if case == "eval":
        layer.eval()
    elif case == "small_batch":
        x = x[:64]
    elif case == "narrow":
        _, layer = pair(400, 64)
    elif case == "float64":
        layer.double()
        x = x.double()
    elif case == "opted_out":
        monkeypatch.setenv("LIT_CTR_ONEDNN_LINEAR", "0")
    if case == "no_grad":
        with torch.no_grad():
            assert not layer._takes_onednn(x)
    elif case == "bf16_autocast":
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert not layer._takes_onednn(x)
    else:
        assert not layer._takes_onednn(x)


def test_state_dict_keys_are_nn_linears():
    reference, layer = pair(8, 4)
    assert list(layer.state_dict()) == list(reference.state_dict()) == ["weight", "bias"]


@needs_onednn
def test_an_mlp_trains_the_same_with_and_without_onednn(monkeypatch):
    def train(enabled: str) -> list[torch.Tensor]:
        monkeypatch.setenv("LIT_CTR_ONEDNN_LINEAR", enabled)
        torch.manual_seed(0)
        mlp = MLP(256, [256, 256])
        # SGD: Adam divides by the gradient's size, so parameters whose gradient is ~0 would
        # move by its rounding noise.
        optimizer = torch.optim.SGD(mlp.parameters(), lr=0.1)
        data = torch.Generator().manual_seed(1)
        for _ in range(5):
            x = torch.randn(2048, 256, generator=data)
            y = torch.randint(0, 2, (2048,), generator=data).float()
            loss = nn.functional.binary_cross_entropy_with_logits(mlp(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return [p.detach().clone() for p in mlp.parameters()]

    for ours, theirs in zip(train("1"), train("0")):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
