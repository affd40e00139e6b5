"""DCN-V2 (Wang et al. 2021, "DCN V2: Improved Deep & Cross Network and Practical Lessons for
Web-scale Learning to Rank Systems"): cross layers ``x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l``
over ``x_0 = [v_1; …; v_m]`` (or the low-rank mixture
``x_{l+1} = Σ_i G_i(x_l) x_0 ⊙ (U_i g(C_i g(V_i^T x_l)) + b_l) + x_l``), with an MLP either
on top (stacked: ``y = w^T MLP(x_L)``) or beside them (parallel: ``y = w^T [x_L; MLP(x_0)]``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from lit_ctr.errors import ConfigError
from lit_ctr.layers import MLP, CrossNetworkV2
from lit_ctr.models.base import CTRModule


class DCNv2(CTRModule):
    """DCN-V2's cross network with an MLP, stacked or in parallel (``DCN`` is the 2017 model).

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        hidden_units: widths of the MLP's hidden layers (empty: the cross network alone).
        dropout: dropout probability after each hidden layer.
        batch_norm: batch normalisation after each hidden Linear.
        num_cross_layers: number of cross layers.
        structure: ``parallel`` (cross network and MLP side by side on ``x_0``) or
            ``stacked`` (the MLP on the cross network's output).
        low_rank: rank ``r`` of each expert's cross weight ``U C V^T``; ``null`` for the
            full-rank ``d × d`` weight (``d`` = fields × ``k``).
        num_experts: low-rank experts mixed per cross layer (DCN-Mix when > 1).
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.

    ``forward``: ``ids [batch, F_cat]``, ``numeric [batch, F_num]`` → logits ``[batch]``.
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        hidden_units: Sequence[int] = (400, 400, 400),
        dropout: float = 0.0,
        batch_norm: bool = False,
        num_cross_layers: int = 3,
        structure: Literal["parallel", "stacked"] = "parallel",
        low_rank: int | None = None,
        num_experts: int = 1,
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        if structure not in ("parallel", "stacked"):
            raise ConfigError(f"model.structure: expected one of ['parallel', 'stacked'], got {structure!r}")
        self.structure = structure
        self.embedding = self.feature_embedding(embed_dim)
        width = self.num_fields * embed_dim
        self.cross = CrossNetworkV2(width, num_cross_layers, low_rank, num_experts)
        self.mlp = MLP(width, list(hidden_units), dropout, batch_norm, output_layer=False)
        self.combine = nn.Linear(self.mlp.out_dim if structure == "stacked" else width + self.mlp.out_dim, 1)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        x0 = self.embedding(ids, numeric).flatten(1)
        if self.structure == "stacked":
            return self.combine(self.mlp(self.cross(x0))).squeeze(-1)
        return self.combine(torch.cat([self.cross(x0), self.mlp(x0)], dim=1)).squeeze(-1)
