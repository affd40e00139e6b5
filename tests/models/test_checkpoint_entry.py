"""Checkpoint format 2, model side: the model names its class and nothing else."""

from __future__ import annotations

from lit_ctr.models import FM


class MyFM(FM):
    """A user's subclass, defined outside lit_ctr.models."""


def test_a_lit_ctr_model_writes_its_short_class_name_and_the_format_version():
    checkpoint: dict = {}
    FM([3, 4]).on_save_checkpoint(checkpoint)
    assert checkpoint["lit_ctr"] == {"format_version": 2, "model_class": "FM"}


def test_a_users_subclass_is_written_by_its_dotted_path():
    checkpoint: dict = {}
    MyFM([3, 4]).on_save_checkpoint(checkpoint)
    assert checkpoint["lit_ctr"]["model_class"] == f"{__name__}.MyFM"


def test_loading_finds_the_preprocessing_in_the_data_modules_state():
    preprocessing = {"schema": {"label": "y"}, "file_format": {}, "vocabulary": {"fields": []}}
    model = FM([3, 4])
    model.on_load_checkpoint(
        {"lit_ctr": {"format_version": 2, "model_class": "FM"}, "CTRDataModule": {"preprocessing": preprocessing}}
    )
    assert model.preprocessing == preprocessing
