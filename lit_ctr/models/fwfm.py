"""FwFM (Pan et al. 2018, "Field-weighted Factorization Machines for Click-Through Rate
Prediction in Display Advertising"): ``y = b + Σ_i w_i x_i + Σ_{i<j} r_{F_i,F_j} <v_i, v_j>``,
one learned weight ``r`` per pair of fields, held as ``r = 1 + δ``."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from lit_ctr.layers import InnerProduct
from lit_ctr.models.base import CTRModule


class FwFM(CTRModule):
    """An FM whose pairwise terms are weighted by one learned strength per pair of fields.

    The weights are held as offsets from an FM, ``r = 1 + δ``: ``δ`` is a Linear over the
    ``fields·(fields−1)/2`` inner products, starting at 0, so weight decay and ``net_l2``
    pull the model towards the FM rather than towards no pairwise term at all. With ``r``
    itself decayed, Adam moved every ``r`` by about the learning rate a step towards 0 while
    the vectors were still near their small initial values (their inner products carry
    almost no gradient): on a generated set of 200k rows the weights fell from 1 to 0.09 in
    7 epochs and FwFM ended at LR's AUC where FM learned the pairs
    (docs/accuracy_generic.md). Checkpoints that hold ``r`` (``field_weights.weight``, saved
    before this parametrisation) load as the same model.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.

    ``forward``: ``ids [batch, F_cat]``, ``numeric [batch, F_num]`` → logits ``[batch]``.
    """

    def __init__(self, field_dims: list[int], num_numeric: int = 0, embed_dim: int = 10, **training: Any) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.inner = InnerProduct(self.num_fields)
        self.field_weight_offsets = nn.Linear(self.inner.num_pairs, 1, bias=False)  # δ = r − 1
        nn.init.zeros_(self.field_weight_offsets.weight)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        pairs = self.inner(self.embedding(ids, numeric))  # [batch, pairs]
        weighted = pairs.sum(-1) + self.field_weight_offsets(pairs).squeeze(-1)  # Σ (1 + δ) <v_i, v_j>
        return self.linear(ids, numeric) + weighted

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        weights = state_dict.pop(prefix + "field_weights.weight", None)
        if weights is not None:  # a checkpoint that holds r itself
            state_dict[prefix + "field_weight_offsets.weight"] = weights - 1
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
