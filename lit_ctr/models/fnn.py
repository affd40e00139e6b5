"""FNN (Zhang, Du & Wang, ECIR 2016): an MLP over per-field dense vectors initialised
from a trained factorization machine.

Every field ``i`` of a row gets the dense vector ``z_i = (w_i, v_i)``: the FM's
first-order weight and latent vector of the row's feature in that field (``x_j · w_j``
and ``x_j · v_j`` for a numeric field). The network reads ``z = (w_0, z_1, …, z_n)``
(``w_0`` the FM bias, as in the paper) and maps it through an MLP to a logit.

FNN keeps ``w`` and ``v`` in the same two layers an :class:`~lit_ctr.models.FM` has
(``linear``: :class:`FeaturesLinear`, ``embedding``: :class:`FeatureEmbedding`), so the
transfer from a trained FM is a ``load_state_dict`` between equal layouts, bit for bit:
``fm_checkpoint`` names a trained FM checkpoint, copied in when fitting starts. ``lit-ctr
fit`` with an ``fm_pretraining:`` block trains that FM first, on the same data
(:mod:`lit_ctr.models.fm_phase`), and passes its best checkpoint here.

Without it, FNN is an MLP over randomly initialised vectors (the baseline the paper
compares against).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.cli import OptimizerCallable
from torch import Tensor

from lit_ctr.checkpoint import read_checkpoint
from lit_ctr.errors import CheckpointError
from lit_ctr.layers import MLP
from lit_ctr.models.base import CTRModule

log = logging.getLogger("lit_ctr")

# The FM layers FNN shares with lit_ctr.models.FM (same names, same layouts).
FM_LAYERS = ("linear", "embedding")


class FNN(CTRModule):
    """MLP over the FM vectors ``z = (w_0, (w_i, v_i) for every field)``.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: latent vector size ``k`` (must equal the FM's to transfer from it).
        hidden_units: widths of the MLP's hidden layers.
        dropout: dropout after each hidden layer.
        batch_norm: batch normalisation after each hidden Linear.
        activation: ``relu`` (default), ``tanh``, ``sigmoid`` or ``gelu``. The paper used
            tanh; ReLU is the default because it is what the tuned deep CTR baselines
            (BARS, DeepFM, our other models) use, it does not saturate on the FM vectors'
            scale, and on frappe-86k it beat tanh (best validation AUC 0.9510 against
            0.9477, docs/fnn.md).
        embedding_l2: L2 weight on the vectors and weights a batch looks up.
        net_l2: L2 weight on the MLP's Linear weights.
        fm_checkpoint: a trained ``FM`` checkpoint (same data, same ``embed_dim``) whose
            first-order weights and latent vectors initialise ``z`` when fitting starts.
            Ignored when resuming from a checkpoint and by ``load_from_checkpoint``.
        optimizer: builds the optimizer (default Adam).
        multi_fields: the multi-valued fields' layout (linked from the data).
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        hidden_units: list[int] = [400, 400, 400],  # noqa: B006 - jsonargparse shows list defaults
        dropout: float = 0.0,
        batch_norm: bool = False,
        activation: str = "relu",
        embedding_l2: float = 0.0,
        net_l2: float = 0.0,
        fm_checkpoint: str | None = None,
        optimizer: OptimizerCallable = torch.optim.Adam,
        multi_fields: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(
            field_dims,
            num_numeric,
            embed_dim,
            embedding_l2=embedding_l2,
            net_l2=net_l2,
            optimizer=optimizer,
            multi_fields=multi_fields,
        )
        self.fm_checkpoint = fm_checkpoint
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.mlp = MLP(1 + self.num_fields * (1 + embed_dim), list(hidden_units), dropout, batch_norm, activation)

    def dense_vectors(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``z = (w_0, z_1, …, z_n)`` flattened: ``[batch, 1 + fields·(1 + k)]``."""
        weights = self.linear.field_terms(ids, numeric)  # [B, F, 1], multi-valued fields pooled
        z = torch.cat([weights, self.embedding(ids, numeric)], dim=-1)  # [B, F, 1 + k]
        bias = self.linear.bias.expand(ids.shape[0], 1).to(z.dtype)
        return torch.cat([bias, z.flatten(1)], dim=1)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """FNN logits ``[batch]``."""
        return self.mlp(self.dense_vectors(ids, numeric))

    # ----------------------------------------------------------------- FM weights
    def fm_state_dict(self) -> dict[str, Tensor]:
        """The FM part of the model (``linear.*``, ``embedding.*``): what an FM checkpoint holds."""
        return {k: v for k, v in self.state_dict().items() if k.split(".", 1)[0] in FM_LAYERS}

    @torch.no_grad()
    def load_fm_state_dict(self, state: Mapping[str, Tensor]) -> None:
        """Copy an FM's ``linear.*`` and ``embedding.*`` tensors into ``z``, exactly.

        ``state`` is an FM's ``state_dict`` (extra keys are ignored); shapes must match.
        """
        for name in FM_LAYERS:
            layer = getattr(self, name)
            prefix = f"{name}."
            part = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            expected = layer.state_dict()
            if part.keys() != expected.keys():
                raise ValueError(
                    f"FM weights: expected {sorted(prefix + k for k in expected)}, got {sorted(prefix + k for k in part)}"
                )
            for key, value in part.items():
                if value.shape != expected[key].shape:
                    raise ValueError(
                        f"FM weights: {prefix}{key} has shape {tuple(value.shape)}, FNN expects {tuple(expected[key].shape)}"
                        " (the FM must be trained on the same data with the same embed_dim)"
                    )
            layer.load_state_dict(part)

    def load_fm_checkpoint(self, path: str | Path) -> None:
        """Initialise ``z`` from a trained ``FM`` checkpoint file.

        Raises:
            CheckpointError: the file is unreadable, or its FM was trained with other sizes
                or another vocabulary than this model's data.
        """
        checkpoint = read_checkpoint(path)
        hparams = checkpoint.hyper_parameters
        for key in ("field_dims", "num_numeric", "embed_dim"):
            if key in hparams and hparams[key] != self.hparams[key]:
                raise CheckpointError(
                    f"fm_checkpoint: {key} is {hparams[key]}, this FNN has {self.hparams[key]}", file=str(path)
                )
        mine = self._preprocessing_now()
        theirs = checkpoint.preprocessing
        if mine and theirs and mine.get("vocabulary") != theirs.get("vocabulary"):
            raise CheckpointError(
                "fm_checkpoint: its vocabulary differs from this data's; ids would not match", file=str(path)
            )
        self.load_fm_state_dict(checkpoint.raw["state_dict"])
        log.info("lit-ctr: FNN vectors initialised from the FM in %s", path)

    def _preprocessing_now(self) -> dict[str, Any] | None:
        """The preprocessing of the data being fitted (the data module's Lightning state)."""
        # ``_trainer`` (Lightning 2.4-2.6): ``self.trainer`` raises when no Trainer is attached
        # (load_fm_checkpoint called by hand); there is no public "the trainer, if any".
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        state = datamodule.state_dict() if datamodule is not None else None
        if isinstance(state, dict) and isinstance(state.get("preprocessing"), dict):
            return state["preprocessing"]
        return self.preprocessing

    def on_fit_start(self) -> None:
        # After any checkpoint restore: a resumed run keeps its own (fine-tuned) vectors.
        if self.fm_checkpoint and self.trainer.ckpt_path is None:
            self.load_fm_checkpoint(self.fm_checkpoint)
