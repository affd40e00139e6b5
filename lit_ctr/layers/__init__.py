"""Small layers every model is composed of; each lives here once."""

from lit_ctr.layers.cross import CrossNetwork
from lit_ctr.layers.embedding import FeatureEmbedding
from lit_ctr.layers.interaction import BiInteraction, FMInteraction
from lit_ctr.layers.linear import FeaturesLinear
from lit_ctr.layers.mlp import MLP
from lit_ctr.layers.product import InnerProduct, OuterProduct
from lit_ctr.layers.table import EmbeddingTable

__all__ = [
    "BiInteraction",
    "CrossNetwork",
    "EmbeddingTable",
    "FMInteraction",
    "FeatureEmbedding",
    "FeaturesLinear",
    "InnerProduct",
    "MLP",
    "OuterProduct",
]
