"""An undefined val/auc (one class in the validation split) never picks a checkpoint or stops training."""

from __future__ import annotations

import lightning as L
import torch

from lit_ctr.callbacks import BestAndLastCheckpoint, NaNSkippingEarlyStopping
from lit_ctr.models import FM


def one_class_fit(tmp_path, callbacks, epochs: int = 3) -> L.Trainer:
    torch.manual_seed(0)
    batch = {"ids": torch.tensor([[0, 3], [1, 4]]), "numeric": torch.zeros(2, 0), "label": torch.ones(2)}
    loader = torch.utils.data.DataLoader([batch], batch_size=None)
    trainer = L.Trainer(max_epochs=epochs, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu", num_sanity_val_steps=0, default_root_dir=tmp_path,
                        callbacks=callbacks)  # fmt: skip
    trainer.fit(FM([3, 4], embed_dim=2), loader, loader)
    return trainer


def test_no_best_checkpoint_is_chosen_on_a_nan_auc_but_last_is_written(tmp_path):
    checkpoint = BestAndLastCheckpoint(dirpath=tmp_path, monitor="val/auc", mode="max", filename="best", save_last=True)
    one_class_fit(tmp_path, [checkpoint])
    assert not (tmp_path / "best.ckpt").exists() and checkpoint.best_model_path == ""
    assert torch.load(tmp_path / "last.ckpt", weights_only=True)["epoch"] == 2


def test_early_stopping_skips_a_nan_auc_instead_of_stopping(tmp_path):
    trainer = one_class_fit(tmp_path, [NaNSkippingEarlyStopping(monitor="val/auc", mode="max", patience=1)])
    assert trainer.current_epoch == 3 and not trainer.should_stop


def test_the_cli_early_stopping_is_the_nan_skipping_one():
    from lit_ctr.cli import build_cli

    cli = build_cli(["--model", "FM", "--data", "SyntheticCTRDataModule", "--trainer.logger", "false"], run=False)
    assert any(isinstance(c, NaNSkippingEarlyStopping) for c in cli.trainer.callbacks)
