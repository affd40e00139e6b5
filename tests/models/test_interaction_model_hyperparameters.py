"""The issue-15 models refuse hyper-parameters they cannot build with, naming the config key."""

from __future__ import annotations

import pytest

from lit_ctr.errors import ConfigError
from lit_ctr.models import AFM, AutoInt, DCNv2, FiBiNET, FinalMLP, xDeepFM


def test_an_odd_cin_layer_size_before_the_last_is_refused_with_split_half():
    with pytest.raises(
        ConfigError, match=r"^model\.cin_layer_sizes: split_half needs even sizes before the last, got \[3, 4\]$"
    ):
        xDeepFM([3, 4], cin_layer_sizes=[3, 4], split_half=True)


def test_an_empty_cin_is_refused():
    with pytest.raises(ConfigError, match=r"^model\.cin_layer_sizes: expected at least one layer, got \[\]$"):
        xDeepFM([3, 4], cin_layer_sizes=[])


def test_an_unknown_bilinear_type_is_refused():
    with pytest.raises(
        ConfigError,
        match=r"^model\.bilinear_type: expected one of \['field_all', 'field_each', 'field_interaction'\], got 'pairwise'$",
    ):
        FiBiNET([3, 4], bilinear_type="pairwise")  # type: ignore[arg-type]


def test_an_unknown_senet_excitation_activation_is_refused():
    with pytest.raises(
        ConfigError, match=r"^model\.excitation_activation: expected one of \['relu', 'sigmoid'\], got 'tanh'$"
    ):
        FiBiNET([3, 4], excitation_activation="tanh")  # type: ignore[arg-type]


def test_an_unknown_dcn_v2_structure_is_refused():
    with pytest.raises(
        ConfigError, match=r"^model\.structure: expected one of \['parallel', 'stacked'\], got 'serial'$"
    ):
        DCNv2([3, 4], structure="serial")  # type: ignore[arg-type]


def test_a_low_rank_of_zero_is_refused():
    with pytest.raises(ConfigError, match=r"^model\.low_rank: expected an integer >= 1, got 0$"):
        DCNv2([3, 4], low_rank=0)


def test_fusion_heads_that_do_not_divide_the_stream_widths_are_refused():
    with pytest.raises(
        ConfigError, match=r"^model\.num_heads: expected a divisor of both streams' output widths \(4, 6\), got 4$"
    ):
        FinalMLP([3, 4], mlp1_hidden_units=[4], mlp2_hidden_units=[6], num_heads=4)


def test_a_finalmlp_stream_without_hidden_layers_is_refused():
    with pytest.raises(ConfigError, match=r"^model\.mlp2_hidden_units: expected at least one hidden layer, got \[\]$"):
        FinalMLP([3, 4], mlp2_hidden_units=[])


def test_zero_attention_heads_are_refused():
    with pytest.raises(ConfigError, match=r"^model\.num_heads: expected an integer >= 1, got 0$"):
        AutoInt([3, 4], num_heads=0)


def test_a_negative_attention_l2_is_refused():
    with pytest.raises(ConfigError, match=r"^model\.attention_l2: expected a number >= 0, got -1\.0$"):
        AFM([3, 4], attention_l2=-1.0)


def test_attention_dropout_of_one_is_refused():
    with pytest.raises(ConfigError, match=r"^model\.attention_dropout: expected a number in \[0, 1\), got 1\.0$"):
        AFM([3, 4], attention_dropout=1.0)
