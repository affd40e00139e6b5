"""The data's fields as a model sees them, and the layers every model builds on them."""

from __future__ import annotations

from typing import Any

from lit_ctr.errors import ConfigError
from lit_ctr.layers.embedding import FeatureEmbedding
from lit_ctr.layers.linear import FeaturesLinear
from lit_ctr.layers.pooling import layout_of, multi_field_layout
from lit_ctr.sharding.layers import ShardedFeatureEmbedding, ShardedFeaturesLinear, check_embedding_kind


class FieldLayers:
    """Mixin of :class:`~lit_ctr.models.CTRModule`: ``field_dims``, ``num_numeric``,
    ``multi_fields`` and ``embedding_kind``, and the factories of the shared layers, so a new
    field kind or table kind reaches every model in one place."""

    hparams: Any
    field_dims: list[int]
    num_numeric: int
    multi_fields: list[dict[str, Any]]
    embedding_kind: str

    def set_fields(
        self,
        field_dims: list[int],
        num_numeric: int,
        multi_fields: list[dict[str, Any]] | None,
        embedding: str,
        sparse: bool,
    ) -> None:
        """Check and keep the linked field settings; they are written into the hyper-parameters
        explicitly, or checkpoints may hold the nulls the CLI linked before the data was read."""
        self.field_dims = self.hparams["field_dims"] = [int(d) for d in field_dims]
        self.num_numeric = self.hparams["num_numeric"] = int(num_numeric)
        layout = multi_field_layout("multi_fields", multi_fields)
        if len(layout) > len(self.field_dims):
            raise ConfigError(
                f"model.multi_fields: {len(layout)} multi-valued fields but only {len(self.field_dims)} field_dims"
            )
        self.multi_fields = self.hparams["multi_fields"] = layout_of(layout)
        self.embedding_kind = check_embedding_kind(embedding, sparse)
        if self.embedding_kind == "sharded" and self.multi_fields:
            raise ConfigError(
                "model.embedding: 'sharded' takes single-valued categorical fields only; "
                f"this data has {len(self.multi_fields)} multi-valued field(s): use embedding 'dense'"
            )

    @property
    def num_fields(self) -> int:
        """Fields of a row once embedded (the ``F`` of ``[batch, F, dim]``)."""
        return len(self.field_dims) + self.num_numeric

    def feature_embedding(self, dim: int) -> FeatureEmbedding | ShardedFeatureEmbedding:
        """The embedding layer for this data's fields, ``[batch, F, dim]``; every model builds its
        vectors with it, so every field kind the data offers reaches every model."""
        if self.embedding_kind == "sharded":
            return ShardedFeatureEmbedding(self.field_dims, self.num_numeric, dim)
        return FeatureEmbedding(self.field_dims, self.num_numeric, dim, multi_fields=self.multi_fields)

    def features_linear(self) -> FeaturesLinear | ShardedFeaturesLinear:
        """The first-order term ``b + Σ w_i x_i`` for this data's fields, ``[batch]``."""
        if self.embedding_kind == "sharded":
            return ShardedFeaturesLinear(self.field_dims, self.num_numeric)
        return FeaturesLinear(self.field_dims, self.num_numeric, multi_fields=self.multi_fields)
