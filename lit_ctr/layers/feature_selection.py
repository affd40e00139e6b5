"""FinalMLP's stream-specific feature selection (Mao et al. 2023)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lit_ctr.layers.mlp import MLP


class FeatureGate(nn.Module):
    """``x' = e ⊙ 2σ(MLP(c))``: ``[batch, width]`` → ``[batch, width]``.

    The gate's context ``c`` is a learned vector (the paper's setting with no conditioning
    fields), so the gate learns which entries of the flattened field vectors ``e`` a stream
    sees and how strongly; ``2σ`` starts every entry near 1.

    Args:
        width: width of ``e`` (fields × embedding size).
        context_dim: size of the learned context vector.
        hidden_units: widths of the gate MLP's hidden layers.
    """

    def __init__(self, width: int, context_dim: int, hidden_units: Sequence[int]) -> None:
        super().__init__()
        self.context = nn.Parameter(torch.zeros(1, context_dim))
        self.mlp = MLP(context_dim, list(hidden_units), output_layer=False)
        self.out = nn.Linear(self.mlp.out_dim, width)

    def forward(self, flat: Tensor) -> Tensor:
        return flat * 2 * torch.sigmoid(self.out(self.mlp(self.context)))
