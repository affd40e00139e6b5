"""FinalMLP (Mao et al. 2023, "FinalMLP: An Enhanced Two-Stream MLP Model for CTR
Prediction"): two MLP streams over gated copies of ``e = [v_1; …; v_m]``,
``o_1 = MLP_1(e ⊙ g_1)``, ``o_2 = MLP_2(e ⊙ g_2)`` with ``g_s = 2σ(MLP_{g,s}(c_s))``,
fused by ``y = b + w_1^T o_1 + w_2^T o_2 + Σ_h o_{1,h}^T W_{3,h} o_{2,h}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from lit_ctr.errors import ConfigError
from lit_ctr.layers import MLP, BilinearFusion, FeatureGate
from lit_ctr.layers.checks import check_widths
from lit_ctr.models.base import CTRModule


class FinalMLP(CTRModule):
    """Two MLP streams, each with its own feature-selection gate, fused bilinearly.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        mlp1_hidden_units: widths of the first stream's hidden layers (at least one).
        mlp2_hidden_units: widths of the second stream's hidden layers (at least one).
        mlp1_dropout: dropout probability after each of the first stream's hidden layers.
        mlp2_dropout: dropout probability after each of the second stream's hidden layers.
        batch_norm: batch normalisation after each hidden Linear of both streams.
        feature_selection: gate each stream's input (``false``: both see ``e`` as it is).
        fs_hidden_units: widths of each gate's hidden layers.
        num_heads: heads of the bilinear fusion; must divide both streams' output widths.
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.

    ``forward``: ``ids [batch, F_cat]``, ``numeric [batch, F_num]`` → logits ``[batch]``.
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        mlp1_hidden_units: Sequence[int] = (400, 400, 400),
        mlp2_hidden_units: Sequence[int] = (800,),
        mlp1_dropout: float = 0.0,
        mlp2_dropout: float = 0.0,
        batch_norm: bool = False,
        feature_selection: bool = True,
        fs_hidden_units: Sequence[int] = (800,),
        num_heads: int = 1,
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        for key, widths in (("mlp1_hidden_units", mlp1_hidden_units), ("mlp2_hidden_units", mlp2_hidden_units)):
            if not check_widths(key, widths):
                raise ConfigError(f"model.{key}: expected at least one hidden layer, got []")
        self.embedding = self.feature_embedding(embed_dim)
        width = self.num_fields * embed_dim
        self.gate1: nn.Module = FeatureGate(width, embed_dim, fs_hidden_units) if feature_selection else nn.Identity()
        self.gate2: nn.Module = FeatureGate(width, embed_dim, fs_hidden_units) if feature_selection else nn.Identity()
        self.mlp1 = MLP(width, list(mlp1_hidden_units), mlp1_dropout, batch_norm, output_layer=False)
        self.mlp2 = MLP(width, list(mlp2_hidden_units), mlp2_dropout, batch_norm, output_layer=False)
        self.fusion = BilinearFusion(self.mlp1.out_dim, self.mlp2.out_dim, num_heads)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        flat = self.embedding(ids, numeric).flatten(1)
        return self.fusion(self.mlp1(self.gate1(flat)), self.mlp2(self.gate2(flat)))
