"""With FreezeGarbageCollection, objects are frozen out of garbage collection during fit, and unfrozen after it."""

from __future__ import annotations

import gc
from functools import partial

import lightning as L
import pytest
import torch

from lit_ctr.callbacks import garbage_collection as collection
from lit_ctr.data import SyntheticCTRDataModule
from lit_ctr.models import FM


@pytest.fixture(autouse=True)
def nothing_frozen():
    gc.unfreeze()
    collection._frozen_by_us = False
    yield
    gc.unfreeze()
    collection._frozen_by_us = False


def test_freeze_for_fit_freezes_what_exists_and_unfreeze_releases_it():
    collection.freeze_for_fit()
    assert gc.get_freeze_count() > 0
    collection.unfreeze_after_fit()
    assert gc.get_freeze_count() == 0


def test_objects_the_application_froze_itself_stay_frozen():
    gc.freeze()
    frozen = gc.get_freeze_count()
    collection.freeze_for_fit()
    collection.unfreeze_after_fit()
    assert gc.get_freeze_count() == frozen


def test_the_fit_after_one_that_raised_freezes_its_own_objects_too():
    collection.freeze_for_fit()  # ... and that fit raised: no unfreeze_after_fit
    before = gc.get_freeze_count()
    created_since = [[] for _ in range(1000)]  # tracked objects made after that freeze
    collection.freeze_for_fit()  # the next fit
    assert gc.get_freeze_count() >= before + len(created_since)
    collection.unfreeze_after_fit()
    assert gc.get_freeze_count() == 0


class FrozenDuringTraining(L.Callback):
    def __init__(self) -> None:
        self.counts: list[int] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.counts.append(gc.get_freeze_count())


def test_objects_are_frozen_during_training_steps_and_not_after_fit(tmp_path):
    dm = SyntheticCTRDataModule(
        rows=2_000, numeric_fields=1, categorical_fields=2, max_cardinality=10,
        data_dir=str(tmp_path / "data"), cache_dir=str(tmp_path / "cache"), batch_size=256,
    )  # fmt: skip
    dm.prepare_data()
    model = FM(dm.field_dims, dm.num_numeric, embed_dim=4, optimizer=partial(torch.optim.Adam, lr=0.01))
    probe = FrozenDuringTraining()
    trainer = L.Trainer(
        max_steps=3, limit_val_batches=0, num_sanity_val_steps=0, accelerator="cpu", logger=False,
        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False, callbacks=[collection.FreezeGarbageCollection(), probe],
    )  # fmt: skip
    trainer.fit(model, dm)
    assert probe.counts and all(count > 0 for count in probe.counts)
    assert gc.get_freeze_count() == 0


def test_the_cli_adds_the_freeze_to_every_run():
    from lit_ctr.cli import build_cli

    cli = build_cli(["--model", "FM", "--data", "SyntheticCTRDataModule", "--trainer.logger", "false"], run=False)
    assert any(isinstance(c, collection.FreezeGarbageCollection) for c in cli.trainer.callbacks)
