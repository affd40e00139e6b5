"""FiBiNET (Huang et al. 2019, "FiBiNET: Combining Feature Importance and Bilinear feature
Interaction for Click-Through Rate Prediction"): the SENET layer re-weights the field vectors,
``V = SENET(E)``; the bilinear layer gives ``p = {(e_i·W) ⊙ e_j}`` and ``q = {(v_i·W) ⊙ v_j}``
for every ``i < j``; ``y = b + Σ_i w_i x_i + MLP([p; q])``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from lit_ctr.layers import MLP, BilinearInteraction, SENETLayer
from lit_ctr.layers.bilinear import BilinearType
from lit_ctr.layers.senet import ExcitationActivation
from lit_ctr.models.base import CTRModule


class FiBiNET(CTRModule):
    """Field importance (SENET) and bilinear pairwise interactions, fed to an MLP beside a
    linear term.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        hidden_units: widths of the MLP's hidden layers.
        dropout: dropout probability after each hidden layer.
        batch_norm: batch normalisation after each hidden Linear.
        reduction_ratio: SENET's ``r``: its hidden layer has ``fields // r`` units (at least 1).
        bilinear_type: ``field_all`` (one ``k × k`` weight), ``field_each`` (one per field) or
            ``field_interaction`` (one per pair of fields).
        excitation_activation: SENET's output activation, ``relu`` (the paper's) or
            ``sigmoid`` (field weights in (0, 1); see docs/models/fibinet.md for why).
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
        reduction_ratio: int = 3,
        bilinear_type: BilinearType = "field_interaction",
        excitation_activation: ExcitationActivation = "relu",
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.senet = SENETLayer(self.num_fields, reduction_ratio, excitation_activation)
        self.bilinear = BilinearInteraction(self.num_fields, embed_dim, bilinear_type)
        self.mlp = MLP(2 * self.bilinear.num_pairs * embed_dim, list(hidden_units), dropout, batch_norm)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        vectors = self.embedding(ids, numeric)
        p, q = self.bilinear(vectors), self.bilinear(self.senet(vectors))
        return self.linear(ids, numeric) + self.mlp(torch.cat([p.flatten(1), q.flatten(1)], dim=1))
