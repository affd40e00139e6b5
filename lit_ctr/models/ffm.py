"""FFM (Juan et al. 2016, "Field-aware Factorization Machines for CTR Prediction"):
``y = b + Σ_i w_i x_i + Σ_{i<j} <v_{i,f_j}, v_{j,f_i}> x_i x_j``, where each feature has one
vector per field it can meet."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from lit_ctr.layers import FieldAwareInteraction
from lit_ctr.models.base import CTRModule


class FFM(CTRModule):
    """A factorization machine with a separate vector of each feature for every other field.

    Memory: every id holds ``fields × k`` floats (``fields`` = categorical + numeric fields)
    instead of FM's ``k``, so the table is ``fields`` times FM's; at the Criteo shape (39
    fields) and ``k = 4`` that is 156 floats per id. The vectors live in one table of
    ``fields·k`` columns and a batch is one gather, viewed as ``[batch, fields, fields, k]``
    (``[b, i, j]`` is field ``i``'s vector for field ``j``).

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: ``k``, the size of each field-aware vector.
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.

    ``forward``: ``ids [batch, F_cat]``, ``numeric [batch, F_num]`` → logits ``[batch]``.
    """

    def __init__(self, field_dims: list[int], num_numeric: int = 0, embed_dim: int = 4, **training: Any) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(self.num_fields * embed_dim)
        self.interaction = FieldAwareInteraction(self.num_fields)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        vectors = self.embedding(ids, numeric).unflatten(2, (self.num_fields, self.embed_dim))
        return self.linear(ids, numeric) + self.interaction(vectors)
