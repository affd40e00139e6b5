"""The sharded twins of :class:`~lit_ctr.layers.FeatureEmbedding` and
:class:`~lit_ctr.layers.FeaturesLinear`: same inputs, outputs and state-dict keys, with the
categorical tables in torchrec (one per field) so that
:class:`~lit_ctr.sharding.TorchrecStrategy` can shard them across ranks."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_ctr.errors import ConfigError
from lit_ctr.layers.penalised_rows import PenalisedRows
from lit_ctr.sharding._torchrec import require_torchrec
from lit_ctr.sharding.tables import FieldTables


def check_embedding_kind(kind: str, sparse: bool) -> str:
    """``kind`` (``dense`` or ``sharded``), or a :class:`ConfigError` naming ``model.embedding``;
    ``sharded`` needs torchrec installed and leaves the tables' updates to torchrec's fused
    optimizer, so it does not combine with ``sparse``."""
    if kind not in ("dense", "sharded"):
        raise ConfigError(f"model.embedding: expected 'dense' or 'sharded', got {kind!r}")
    if kind == "sharded":
        require_torchrec()
        if sparse:
            raise ConfigError(
                "model.sparse: expected false with embedding 'sharded' (its tables are updated by "
                "torchrec's fused optimizer, set on the strategy), got true"
            )
    return kind


class ShardedFeatureEmbedding(PenalisedRows):
    """Dense vectors of every field of a row, ``[batch, fields, dim]``, as
    :class:`~lit_ctr.layers.FeatureEmbedding` computes them, with the categorical fields in
    shardable torchrec tables and the numeric vectors ``u_j`` (``x_j · u_j``) data-parallel.

    State-dict keys: ``table.weight`` ``[sum(field_dims), dim]`` and ``numeric_vectors``.

    Args:
        field_dims: ids per categorical field (at least one).
        num_numeric: number of numeric fields.
        dim: vector size ``k``.
        init_std: standard deviation of the normal initialisation.
    """

    table: FieldTables

    def __init__(self, field_dims: list[int], num_numeric: int, dim: int, init_std: float = 0.01) -> None:
        super().__init__()
        self.dim = dim
        self.table = FieldTables(field_dims, dim, "vectors", init_std)
        self.numeric_vectors = nn.Parameter(torch.empty(num_numeric, dim))
        nn.init.normal_(self.numeric_vectors, std=init_std)

    @property
    def num_fields(self) -> int:
        return len(self.table.field_dims) + self.numeric_vectors.shape[0]

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``ids [B, F_cat]`` (global), ``numeric [B, F_num]`` → ``[B, F_cat + F_num, dim]``."""
        # Kept for the L2 (PenalisedRows): a fused table optimizer steps once per backward
        # through a lookup, so a second lookup for the penalty would make it step twice.
        vectors = self.kept(self.table(ids))
        if self.numeric_vectors.shape[0]:
            scaled = numeric.unsqueeze(-1) * self.numeric_vectors
            vectors = torch.cat([vectors, scaled.to(vectors.dtype)], dim=1)
        return vectors

    def squared_norm(self, ids: Tensor) -> Tensor:
        """Sum of squared vectors a batch looks up, over the batch size (for L2)."""
        rows = self.rows_for_penalty(ids).pow(2).sum() / ids.shape[0]
        return rows + self.numeric_vectors.pow(2).sum()


class ShardedFeaturesLinear(PenalisedRows):
    """``b + Σ_i w_i x_i``, ``[batch]``, as :class:`~lit_ctr.layers.FeaturesLinear` computes it,
    with the categorical weights in shardable one-column torchrec tables.

    State-dict keys: ``table.weight`` ``[sum(field_dims), 1]``, ``numeric_weights``, ``bias``.

    Args:
        field_dims: ids per categorical field (at least one).
        num_numeric: number of numeric fields.
    """

    table: FieldTables

    def __init__(self, field_dims: list[int], num_numeric: int) -> None:
        super().__init__()
        self.table = FieldTables(field_dims, 1, "weights", init_std=0.0)
        self.numeric_weights = nn.Parameter(torch.zeros(num_numeric))
        self.bias = nn.Parameter(torch.zeros(()))

    def field_terms(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """Each field's term ``w_i x_i``: ``[B, F_cat + F_num, 1]`` (categorical fields, then numeric)."""
        weights = self.kept(self.table(ids))
        if self.numeric_weights.shape[0]:
            numeric_terms = (numeric * self.numeric_weights).unsqueeze(-1)
            weights = torch.cat([weights, numeric_terms.to(weights.dtype)], dim=1)
        return weights

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``ids [B, F_cat]``, ``numeric [B, F_num]`` → ``[B]``."""
        out = self.kept(self.table(ids)).sum(dim=(1, 2)) + self.bias
        if self.numeric_weights.shape[0]:
            out = out + numeric @ self.numeric_weights
        return out

    def squared_norm(self, ids: Tensor) -> Tensor:
        """Sum of squared weights a batch looks up, over the batch size (for L2)."""
        rows = self.rows_for_penalty(ids).pow(2).sum() / ids.shape[0]
        return rows + self.numeric_weights.pow(2).sum()
