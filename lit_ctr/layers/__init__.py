"""Small layers every model is composed of; each lives here once."""

from lit_ctr.layers.attention import AttentionalPooling
from lit_ctr.layers.bilinear import BilinearInteraction
from lit_ctr.layers.cin import CompressedInteraction
from lit_ctr.layers.cross import CrossNetwork
from lit_ctr.layers.cross_v2 import CrossLayerMix, CrossLayerV2, CrossNetworkV2
from lit_ctr.layers.embedding import FeatureEmbedding
from lit_ctr.layers.feature_selection import FeatureGate
from lit_ctr.layers.field_aware import FieldAwareInteraction
from lit_ctr.layers.fusion import BilinearFusion
from lit_ctr.layers.interaction import BiInteraction, FMInteraction
from lit_ctr.layers.linear import FeaturesLinear
from lit_ctr.layers.mlp import MLP
from lit_ctr.layers.pairwise import FieldPairs, PairwiseProduct
from lit_ctr.layers.product import InnerProduct, OuterProduct
from lit_ctr.layers.self_attention import InteractingLayer
from lit_ctr.layers.senet import SENETLayer
from lit_ctr.layers.table import EmbeddingTable

__all__ = [
    "AttentionalPooling",
    "BiInteraction",
    "BilinearFusion",
    "BilinearInteraction",
    "CompressedInteraction",
    "CrossLayerMix",
    "CrossLayerV2",
    "CrossNetwork",
    "CrossNetworkV2",
    "EmbeddingTable",
    "FMInteraction",
    "FeatureEmbedding",
    "FeatureGate",
    "FeaturesLinear",
    "FieldAwareInteraction",
    "FieldPairs",
    "InnerProduct",
    "InteractingLayer",
    "MLP",
    "OuterProduct",
    "PairwiseProduct",
    "SENETLayer",
]
