"""lit-ctr's Dropout: nn.Dropout's contract with a cheaper mask."""

from __future__ import annotations

import pytest
import torch

from lit_ctr.layers.dropout import Dropout, kept_mask


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_each_element_is_kept_with_probability_one_minus_p(p):
    torch.manual_seed(0)
    kept = (Dropout(p).train()(torch.ones(1_000_003)) != 0).float().mean().item()
    assert kept == pytest.approx(1 - p, abs=0.002)  # 1M draws: sd ~0.0005


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_kept_elements_are_scaled_so_the_expectation_is_unchanged(dtype):
    torch.manual_seed(0)
    out = Dropout(0.2).train()(torch.ones(1_000_000, dtype=dtype))
    assert out.dtype == dtype
    values = sorted(out.unique().float().tolist())
    assert values[0] == 0.0 and values[1] == pytest.approx(1.25, rel=1e-2) and len(values) == 2
    assert out.float().mean().item() == pytest.approx(1.0, abs=0.003)


def test_evaluation_passes_the_input_through():
    x = torch.randn(64, 8)
    assert Dropout(0.5).eval()(x) is x


def test_the_gradient_is_the_mask_times_the_scale():
    torch.manual_seed(0)
    x = torch.randn(512, 16, requires_grad=True)
    out = Dropout(0.2).train()(x)
    out.sum().backward()
    torch.testing.assert_close(x.grad, (out.detach() / x.detach()).nan_to_num())


def test_masks_follow_the_seed_and_differ_between_calls():
    layer = Dropout(0.3).train()
    torch.manual_seed(1)
    first, second = layer(torch.ones(1000)), layer(torch.ones(1000))
    torch.manual_seed(1)
    assert torch.equal(layer(torch.ones(1000)), first)
    assert not torch.equal(first, second)


def test_p_zero_keeps_everything_and_p_one_drops_everything():
    x = torch.randn(100)
    assert torch.equal(Dropout(0.0).train()(x), x)
    assert torch.count_nonzero(Dropout(1.0).train()(x)) == 0


def test_every_16_bit_slot_of_a_random_word_keeps_with_the_same_probability():
    torch.manual_seed(0)
    keep = kept_mask(4 * 200_000, round(0.8 * 65536), torch.device("cpu")).view(-1, 4).float()
    # A word drawn over 63 bits would leave its top slot non-negative: kept 60% of the time.
    assert keep.mean(0).tolist() == pytest.approx([0.8] * 4, abs=0.005)
