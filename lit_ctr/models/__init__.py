"""CTR models: ``CTRModule`` and one short file per model."""

from lit_ctr.models.afm import AFM
from lit_ctr.models.autoint import AutoInt
from lit_ctr.models.base import CTRModule
from lit_ctr.models.dcn import DCN
from lit_ctr.models.dcn_v2 import DCNv2
from lit_ctr.models.deepfm import DeepFM
from lit_ctr.models.ffm import FFM
from lit_ctr.models.fibinet import FiBiNET
from lit_ctr.models.finalmlp import FinalMLP
from lit_ctr.models.fm import FM
from lit_ctr.models.fnn import FNN
from lit_ctr.models.fwfm import FwFM
from lit_ctr.models.lr import LR
from lit_ctr.models.nfm import NFM
from lit_ctr.models.pnn import PNN
from lit_ctr.models.wide_deep import WideDeep
from lit_ctr.models.xdeepfm import xDeepFM

__all__ = [
    "CTRModule",
    "AFM",
    "AutoInt",
    "DCN",
    "DCNv2",
    "DeepFM",
    "FFM",
    "FM",
    "FNN",
    "FiBiNET",
    "FinalMLP",
    "FwFM",
    "LR",
    "NFM",
    "PNN",
    "WideDeep",
    "xDeepFM",
]
