"""CTR models: ``CTRModule`` and one short file per model."""

from lit_ctr.models.base import CTRModule
from lit_ctr.models.fm import FM
from lit_ctr.models.lr import LR

__all__ = ["CTRModule", "FM", "LR"]
