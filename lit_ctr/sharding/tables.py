"""One torchrec table per categorical field, looked up with the shared id space's ids."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lit_ctr.errors import ConfigError
from lit_ctr.sharding._torchrec import require_torchrec
from lit_ctr.sharding.consolidate import copy_into_shards, full_tensor


class FieldTables(nn.Module):
    """``ids [B, F_cat]`` global ids → ``[B, F_cat, dim]``, one torchrec table per field.

    The dense layers keep every field in one table of ``sum(field_dims)`` rows, field ``i``
    owning rows ``[offsets[i], offsets[i] + field_dims[i])``. Here field ``i`` is its own
    ``EmbeddingBagConfig`` named ``{name}_{i}`` in an ``EmbeddingBagCollection``, so
    torchrec's planner can place each field on a rank (table-wise) or split its columns
    (column-wise); a row is one bag of one id, so sum pooling is the lookup itself.

    fbgemm's fused kernels need a multiple of 4 columns: a table of another ``dim`` is stored
    ``width = ceil(dim / 4) * 4`` wide and looked up as its first ``dim`` columns (the rest get
    no gradient and stay zero), so first-order weights (``dim`` 1) take 4 floats a row.

    The state dict is the dense layer's: ``{prefix}weight`` ``[sum(field_dims), dim]``,
    the field tables stacked in field order (gathered to rank 0 when they are sharded), so
    a checkpoint of a sharded model loads into the dense model unchanged and back.

    Args:
        field_dims: ids per categorical field (at least one field).
        dim: columns of every table.
        name: table-name prefix, unique within a model (torchrec keys optimizer state by it).
        init_std: standard deviation of the normal initialisation; ``0`` initialises to zeros.
    """

    offsets: Tensor

    def __init__(self, field_dims: list[int], dim: int, name: str, init_std: float) -> None:
        super().__init__()
        torchrec = require_torchrec()
        if not field_dims:
            raise ConfigError("model.embedding: 'sharded' needs at least one categorical field, got none")
        self.field_dims, self.dim = list(field_dims), dim
        self.width = -(-dim // 4) * 4
        self.keys = [f"{name}_{i}" for i in range(len(field_dims))]
        configs = [
            torchrec.EmbeddingBagConfig(
                name=key,
                embedding_dim=self.width,
                num_embeddings=rows,
                feature_names=[key],
                pooling=torchrec.PoolingType.SUM,
            )
            for key, rows in zip(self.keys, self.field_dims)
        ]
        with torch.random.fork_rng(devices=[]):  # torchrec's own initialisation draws nothing from the seed
            self.collection = torchrec.EmbeddingBagCollection(tables=configs, device=torch.device("cpu"))
        offsets = torch.tensor([0, *field_dims[:-1]], dtype=torch.long).cumsum(0)
        self.register_buffer("offsets", offsets, persistent=False)
        # Drawn as the dense layers draw theirs (nn.Embedding's N(0, 1), then N(0, init_std) or
        # zeros), so one seed starts the sharded and the dense model from the same weights.
        whole = nn.init.normal_(torch.empty(sum(field_dims), dim))
        self.load_full(nn.init.normal_(whole, std=init_std) if init_std else whole.zero_())
        self._register_state_dict_hook(_stack_fields)
        self.register_load_state_dict_pre_hook(_split_fields)

    def forward(self, ids: Tensor) -> Tensor:
        """``ids [B, F_cat]`` global ids → ``[B, F_cat, dim]``."""
        from torchrec import KeyedJaggedTensor

        batch, fields = ids.shape
        local = (ids.long() - self.offsets).t().reshape(-1)  # field-major: one bag per (field, row)
        features = KeyedJaggedTensor(
            keys=self.keys, values=local, lengths=torch.ones(fields * batch, dtype=torch.int32, device=ids.device)
        )
        pooled_by_key = self.collection(features)
        # A sharded collection returns its features grouped by where they live: back to field order.
        pooled = pooled_by_key.values().view(batch, fields, self.width)
        order = [pooled_by_key.keys().index(key) for key in self.keys]
        if order != list(range(fields)):
            pooled = pooled[:, order]
        return pooled if self.width == self.dim else pooled[..., : self.dim]

    def field_keys(self, prefix: str) -> list[str]:
        """The collection's state-dict keys of each field's table, in field order."""
        return [f"{prefix}collection.embedding_bags.{key}.weight" for key in self.keys]

    def load_full(self, weight: Tensor) -> None:
        """Set every table from the stacked ``[sum(field_dims), dim]`` weight, sharded or not
        (each rank copies the rows and columns it holds)."""
        self.load_fields(list(self.widen(weight).split(self.field_dims)))

    def field_weights(self) -> list[Tensor]:
        """Each field's table, ``[field_dims[i], width]`` (not copied; before sharding)."""
        return [table.weight.detach() for table in self.collection.embedding_bags.values()]

    def load_fields(self, weights: list[Tensor]) -> None:
        """Set each field's table from its whole ``[field_dims[i], width]`` weight, sharded or not."""
        state = self.collection.state_dict()
        for weight, key in zip(weights, self.keys):
            copy_into_shards(state[f"embedding_bags.{key}.weight"], weight)

    def widen(self, weight: Tensor) -> Tensor:
        """``[rows, dim]`` → ``[rows, width]``, zeros on the right."""
        return nn.functional.pad(weight, (0, self.width - self.dim))


def _stack_fields(module: FieldTables, state: dict[str, Any], prefix: str, _meta: Any) -> None:
    keys = module.field_keys(prefix)
    parts = [full_tensor(state.pop(key)) for key in keys]
    state[f"{prefix}weight"] = torch.cat(parts)[:, : module.dim]


def _split_fields(module: FieldTables, state: dict[str, Any], prefix: str, *_args: Any) -> None:
    stacked = state.pop(f"{prefix}weight", None)
    if stacked is not None and stacked.shape[0] == sum(module.field_dims):
        state.update(zip(module.field_keys(prefix), module.widen(stacked).split(module.field_dims)))
    elif stacked is not None:
        state[f"{prefix}weight"] = stacked  # the wrong size: load_state_dict names it
