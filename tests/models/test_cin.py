"""xDeepFM's Compressed Interaction Network against its equation, with and without split-half."""

from __future__ import annotations

import torch

from lit_ctr.layers import CompressedInteraction


def _cin_reference(cin: CompressedInteraction, x0: torch.Tensor) -> torch.Tensor:
    """``X^k_h = ReLU(Σ_{i,j} W^{k,h}_{ij} (X^{k-1}_i ⊙ X^0_j) + b)``, looped over i and j."""
    x, pooled = x0, []
    for layer, passed, split in zip(cin.layers, cin.passed, cin.split):
        h_prev, m = x.shape[1], x0.shape[1]
        w = layer.weight.view(-1, h_prev, m)  # [H_k, H_{k-1}, m]
        maps = torch.stack(
            [
                sum(w[h, i, j] * x[:, i] * x0[:, j] for i in range(h_prev) for j in range(m)) + layer.bias[h]
                for h in range(w.shape[0])
            ],
            dim=1,
        ).relu()
        x = maps[:, :passed]
        pooled.append((maps[:, passed:] if split else maps).sum(-1))
    return torch.cat(pooled, dim=1)


def test_cin_layers_compress_products_of_the_maps_and_the_field_vectors():
    cin = CompressedInteraction(3, [4, 2], split_half=False)
    x0 = torch.randn(2, 3, 5)
    out = cin(x0)
    assert out.shape == (2, 6) and cin.out_dim == 6
    torch.testing.assert_close(out, _cin_reference(cin, x0))


def test_split_half_passes_half_the_maps_on_and_pools_the_other_half():
    cin = CompressedInteraction(3, [4, 6, 2], split_half=True)
    x0 = torch.randn(2, 3, 5)
    assert cin.passed == [2, 3, 2] and cin.layers[1].in_features == 2 * 3
    assert cin.out_dim == 2 + 3 + 2
    torch.testing.assert_close(cin(x0), _cin_reference(cin, x0))
