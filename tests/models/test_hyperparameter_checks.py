"""Hyper-parameters outside what a model accepts are refused with the config key and what was expected."""

from __future__ import annotations

import pytest

from lit_ctr.errors import ConfigError
from lit_ctr.models import FM, DeepFM


def test_embed_dim_zero_is_refused():
    with pytest.raises(ConfigError, match=r"^model\.embed_dim: expected an integer >= 1, got 0$"):
        FM([3, 4], embed_dim=0)


def test_a_negative_hidden_unit_is_refused():
    with pytest.raises(ConfigError, match=r"^model\.hidden_units: expected a list of integers >= 1, got \[-5\]$"):
        DeepFM([3, 4], hidden_units=[-5])


def test_dropout_of_one_is_refused():
    with pytest.raises(ConfigError, match=r"^model\.dropout: expected a number in \[0, 1\), got 1\.0$"):
        DeepFM([3, 4], dropout=1.0)


@pytest.mark.parametrize("key", ["embedding_l2", "net_l2"])
def test_a_negative_l2_weight_is_refused(key):
    with pytest.raises(ConfigError, match=rf"^model\.{key}: expected a number >= 0, got -0\.1$"):
        FM([3, 4], **{key: -0.1})


def test_an_unknown_activation_is_refused():
    from lit_ctr.models import FNN

    with pytest.raises(ConfigError, match=r"^model\.activation: expected one of"):
        FNN([3, 4], activation="swish")
