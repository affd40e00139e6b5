"""Opt-in sparse embedding updates: a step touches only the rows in the batch."""

from __future__ import annotations

from functools import partial

import lightning as L
import torch

from lit_ctr.models import FM
from lit_ctr.models.sparse import split_table_parameters


def fit_one_step(model: FM, ids: torch.Tensor) -> None:
    batch = {"ids": ids, "numeric": torch.zeros(len(ids), 0), "label": torch.ones(len(ids))}
    loader = torch.utils.data.DataLoader([batch], batch_size=None)
    trainer = L.Trainer(max_steps=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", num_sanity_val_steps=0)  # fmt: skip
    trainer.fit(model, loader)


def test_sparse_model_uses_a_sparse_optimizer_for_the_tables_and_the_usual_one_for_the_rest():
    model = FM([5, 5], 0, embed_dim=3, sparse=True, optimizer=partial(torch.optim.Adam, lr=0.1))
    sparse_opt, dense_opt = model.configure_optimizers()
    assert isinstance(sparse_opt, torch.optim.SparseAdam) and isinstance(dense_opt, torch.optim.Adam)
    assert {id(p) for g in sparse_opt.param_groups for p in g["params"]} == {
        id(model.embedding.table.weight),
        id(model.linear.table.weight),
    }


def test_sparse_step_changes_only_the_rows_in_the_batch():
    model = FM([5, 5], 0, embed_dim=3, sparse=True, embedding_l2=0.1)
    before = model.embedding.table.weight.detach().clone()
    fit_one_step(model, torch.tensor([[0, 6], [1, 6]]))
    changed = (model.embedding.table.weight.detach() != before).any(dim=1).nonzero().flatten().tolist()
    assert changed == [0, 1, 6]


def test_configure_optimizers_leaves_the_tables_as_they_are():
    model = FM([5, 5], 0, embed_dim=3, sparse=True)
    model.configure_optimizers()
    assert not model.embedding.table.sparse and not model.linear.table.sparse


def test_configure_model_makes_the_tables_sparse_when_asked():
    sparse, dense = FM([5, 5], 0, embed_dim=3, sparse=True), FM([5, 5], 0, embed_dim=3)
    sparse.configure_model()
    dense.configure_model()
    assert sparse.embedding.table.sparse and sparse.linear.table.sparse
    assert not dense.embedding.table.sparse


def test_split_table_parameters_separates_the_tables_from_the_rest():
    model = FM([5, 5], 1, embed_dim=3)
    tables, rest = split_table_parameters(model)
    assert {id(p) for p in tables} == {id(model.embedding.table.weight), id(model.linear.table.weight)}
    assert len(tables) + len(rest) == len(list(model.parameters()))
