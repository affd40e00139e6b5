"""Small layers every model is composed of; each lives here once."""

from lit_ctr.layers.embedding import FeatureEmbedding
from lit_ctr.layers.interaction import BiInteraction, FMInteraction
from lit_ctr.layers.linear import FeaturesLinear
from lit_ctr.layers.mlp import MLP

__all__ = ["BiInteraction", "FMInteraction", "FeatureEmbedding", "FeaturesLinear", "MLP"]
