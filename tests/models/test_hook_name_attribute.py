"""CTRModule stores the name of the hook Lightning is running without nn.Module's
parameter/module/buffer checks, and every other attribute with them."""

from __future__ import annotations

from unittest import mock

import torch
from torch import nn

from lit_ctr.models import LR


def test_hook_name_is_stored_without_nn_module_setattr():
    model = LR([3, 4])
    with mock.patch.object(nn.Module, "__setattr__", side_effect=AssertionError("nn.Module.__setattr__ ran")):
        model._current_fx_name = "training_step"
    assert model._current_fx_name == "training_step"


def test_submodules_and_parameters_set_on_a_model_are_still_registered():
    model = LR([3, 4])
    model.extra = nn.Linear(2, 1)
    model.scale = nn.Parameter(torch.ones(()))
    names = dict(model.named_parameters())
    assert "extra.weight" in names and "scale" in names
