"""CTR models: ``CTRModule`` and one short file per model."""

from lit_ctr.models.base import CTRModule
from lit_ctr.models.dcn import DCN
from lit_ctr.models.deepfm import DeepFM
from lit_ctr.models.fm import FM
from lit_ctr.models.fnn import FNN
from lit_ctr.models.lr import LR
from lit_ctr.models.nfm import NFM
from lit_ctr.models.pnn import PNN
from lit_ctr.models.wide_deep import WideDeep

__all__ = ["CTRModule", "DCN", "DeepFM", "FM", "FNN", "LR", "NFM", "PNN", "WideDeep"]
