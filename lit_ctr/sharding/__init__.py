"""Embedding tables larger than one device: torchrec-sharded tables under Lightning.

``model.init_args.embedding: sharded`` builds the tables as torchrec collections
(:mod:`lit_ctr.sharding.layers`); ``--trainer.strategy=lit_ctr.sharding.TorchrecStrategy``
shards them across the ranks with torchrec's planner. Needs the ``torchrec`` extra
(docs/scaling.md).
"""

from __future__ import annotations

from lightning.pytorch.strategies import StrategyRegistry

from lit_ctr.sharding.layers import ShardedFeatureEmbedding, ShardedFeaturesLinear
from lit_ctr.sharding.strategy import TorchrecStrategy, register

register(StrategyRegistry)

__all__ = ["ShardedFeatureEmbedding", "ShardedFeaturesLinear", "TorchrecStrategy"]
