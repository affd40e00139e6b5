"""xDeepFM's Compressed Interaction Network (Lian et al. 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lit_ctr.errors import ConfigError
from lit_ctr.layers.checks import check_widths


class CompressedInteraction(nn.Module):
    """``X^k_{h,*} = Σ_{i ≤ H_{k−1}} Σ_{j ≤ m} W^{k,h}_{ij} (X^{k−1}_{i,*} ⊙ X^0_{j,*})``,
    each feature map sum-pooled over the embedding dimension: ``[batch, fields, dim]`` →
    ``[batch, out_dim]``.

    Layer ``k`` forms the ``H_{k−1}·m`` Hadamard products of its input maps with the field
    vectors and compresses them to ``H_k`` maps with one Linear (the paper's 1×1
    convolution), followed by ReLU. With ``split_half``, every layer but the last passes half
    of its maps on and sends the other half to the output; ``out_dim`` is the number of maps
    sent to the output.

    Args:
        num_fields: ``m``, the number of field vectors.
        layer_sizes: ``H_1, …, H_K``, the feature maps of each layer.
        split_half: pass half of each hidden layer's maps on, pool the other half.
    """

    def __init__(self, num_fields: int, layer_sizes: Sequence[int], split_half: bool = True) -> None:
        super().__init__()
        sizes = check_widths("cin_layer_sizes", layer_sizes)
        if not sizes:
            raise ConfigError("model.cin_layer_sizes: expected at least one layer, got []")
        if split_half and any(size % 2 for size in sizes[:-1]):
            raise ConfigError(f"model.cin_layer_sizes: split_half needs even sizes before the last, got {sizes}")
        self.layers = nn.ModuleList()
        self.passed: list[int] = []  # maps each layer passes on; the rest of a split layer is pooled
        self.split = [split_half and k < len(sizes) - 1 for k in range(len(sizes))]
        maps, out_dim = num_fields, 0
        for size, split in zip(sizes, self.split):
            self.layers.append(nn.Linear(maps * num_fields, size))
            maps = size // 2 if split else size
            self.passed.append(maps)
            out_dim += size - maps if split else size
        self.out_dim = out_dim

    def forward(self, x0: Tensor) -> Tensor:
        pooled: list[Tensor] = []
        x = x0
        for layer, passed, split in zip(self.layers, self.passed, self.split):
            # [B, H, D] ⊙ [B, m, D] → [B, D, H·m], then the 1×1 convolution over H·m.
            products = (x.unsqueeze(2) * x0.unsqueeze(1)).flatten(1, 2).transpose(1, 2)
            maps = torch.relu(layer(products)).transpose(1, 2)  # [B, H_k, D]
            x = maps[:, :passed]
            pooled.append((maps[:, passed:] if split else maps).sum(dim=2))
        return torch.cat(pooled, dim=1)
