"""FinalMLP's multi-head bilinear fusion of two streams (Mao et al. 2023)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_ctr.errors import ConfigError
from lit_ctr.layers.checks import check_int_at_least


class BilinearFusion(nn.Module):
    """``y = b + w_1^T o_1 + w_2^T o_2 + Σ_h o_{1,h}^T W_{3,h} o_{2,h}``, with each stream's
    output ``o`` cut into ``num_heads`` equal chunks: ``[batch, d_1]``, ``[batch, d_2]`` →
    logits ``[batch]``.

    Args:
        dim1: ``d_1``, width of the first stream's output.
        dim2: ``d_2``, width of the second stream's output.
        num_heads: number of heads; must divide ``d_1`` and ``d_2``.
    """

    def __init__(self, dim1: int, dim2: int, num_heads: int = 1) -> None:
        super().__init__()
        self.num_heads = check_int_at_least("num_heads", num_heads, 1)
        if dim1 % num_heads or dim2 % num_heads:
            raise ConfigError(
                f"model.num_heads: expected a divisor of both streams' output widths ({dim1}, {dim2}), got {num_heads}"
            )
        self.linear1 = nn.Linear(dim1, 1)
        self.linear2 = nn.Linear(dim2, 1, bias=False)
        self.bilinear = nn.Parameter(torch.empty(num_heads, dim1 // num_heads, dim2 // num_heads))
        nn.init.xavier_normal_(self.bilinear)

    def forward(self, first: Tensor, second: Tensor) -> Tensor:
        heads1 = first.unflatten(1, (self.num_heads, -1))
        heads2 = second.unflatten(1, (self.num_heads, -1))
        bilinear = torch.einsum("bhi,hij,bhj->b", heads1, self.bilinear, heads2)
        return (self.linear1(first) + self.linear2(second)).squeeze(-1) + bilinear
