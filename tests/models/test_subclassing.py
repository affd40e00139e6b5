"""A model written in a user's own module runs from the CLI by its class path, as
docs/subclassing.md shows."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch
from lightning.pytorch.cli import OptimizerCallable
from lit_ctr.cli import build_cli, main
from torch import Tensor

from lit_ctr.layers import MLP, FeatureEmbedding
from lit_ctr.models import CTRModule, DeepFM


class DNN(CTRModule):
    """A plain deep network over the feature vectors: ``y = MLP([v_1; …; v_m])``.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size.
        hidden_units: widths of the MLP's hidden layers.
        dropout: dropout probability after each hidden layer.
        embedding_l2: L2 weight on the vectors a batch looks up.
        optimizer: builds the optimizer (default Adam).
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        hidden_units: Sequence[int] = (64, 64),
        dropout: float = 0.0,
        embedding_l2: float = 0.0,
        optimizer: OptimizerCallable = torch.optim.Adam,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, embedding_l2=embedding_l2, optimizer=optimizer)
        self.embedding = FeatureEmbedding(self.field_dims, self.num_numeric, embed_dim)
        self.mlp = MLP(self.embedding.num_fields * embed_dim, list(hidden_units), dropout)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        return self.mlp(self.embedding(ids, numeric).flatten(1))


class ScaledDeepFM(DeepFM):
    """DeepFM with a learned weight on the deep component's logit; every DeepFM argument
    passes through ``**kwargs`` and stays a documented CLI option."""

    def __init__(self, deep_scale: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.deep_scale = torch.nn.Parameter(torch.tensor(deep_scale))

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        vectors = self.embedding(ids, numeric)
        return self.linear(ids, numeric) + self.fm(vectors) + self.deep_scale * self.mlp(vectors.flatten(1))


def test_a_ctr_module_subclass_defined_here_fits_by_its_class_path(write_config, tmp_path):
    config = write_config(f"{__name__}.DNN", {"embed_dim": 4, "hidden_units": [8]}, max_epochs=1)
    main(["fit", "--config", str(config)])
    best = tmp_path / "runs" / "test" / "version_0" / "checkpoints" / "best.ckpt"
    assert DNN.load_from_checkpoint(best, weights_only=True).hparams["hidden_units"] == [8]


def test_a_subclass_of_a_model_keeps_the_parent_arguments_as_cli_options(write_config):
    config = write_config(f"{__name__}.ScaledDeepFM", {"deep_scale": 0.5, "embed_dim": 4, "hidden_units": [8]})
    model = build_cli(["--config", str(config)], run=False).model
    assert model.embed_dim == 4 and model.deep_scale.item() == 0.5


def test_a_subclass_without_forward_says_what_it_must_implement():
    class NoForward(CTRModule):
        pass

    with pytest.raises(NotImplementedError, match="NoForward must implement forward"):
        NoForward([3, 4])(torch.tensor([[0, 3]]), torch.zeros(1, 0))
