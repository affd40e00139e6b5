"""From the command line every mistake ends in one ``lit-ctr: error:`` line; from Python,
in one LitCtrError with the same message."""

from __future__ import annotations

import pytest
from crash_helpers import error_lines
from lit_ctr.cli import console_main, main

from lit_ctr.errors import ConfigError, LitCtrError


def run_console_in_process(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.delenv("LIT_CTR_TRACEBACK", raising=False)
    monkeypatch.setattr("sys.argv", ["lit-ctr", *args])
    with pytest.raises(SystemExit) as info:
        console_main()
    return info.value.code, capsys.readouterr().err


def test_batch_size_zero_from_a_config_raises_the_data_error_not_the_union_dump(fit_config):
    with pytest.raises(LitCtrError, match=r"^data\.batch_size: expected a positive integer, got 0$"):
        main(["fit", "--config", str(fit_config()), "--data.init_args.batch_size", "0"])


def test_batch_size_zero_prints_one_error_line_and_exits_2(fit_config, monkeypatch, capsys):
    code, err = run_console_in_process(
        monkeypatch, capsys, "fit", "--config", str(fit_config()), "--data.init_args.batch_size", "0"
    )
    assert code == 2 and "Traceback" not in err and "Union subtypes" not in err
    assert error_lines(err) == ["lit-ctr: error: data.batch_size: expected a positive integer, got 0"]


def test_chunk_rows_zero_names_its_key(fit_config):
    with pytest.raises(LitCtrError, match=r"^data\.chunk_rows: expected an integer >= 1, got 0$"):
        main(["fit", "--config", str(fit_config()), "--data.init_args.chunk_rows", "0"])


def test_negative_learning_rate_is_a_config_error_of_the_optimizer_key(fit_config):
    with pytest.raises(ConfigError, match=r"^model\.optimizer: Invalid learning rate: -0\.1$"):
        main(["fit", "--config", str(fit_config()), "--model.init_args.optimizer.init_args.lr", "-0.1"])


def test_a_models_config_error_reaches_the_user_as_itself(fit_config):
    args = ["fit", "--config", str(fit_config()), "--model", "crash_helpers.CheckedFM", "--model.init_args.embed_dim"]
    with pytest.raises(ConfigError, match=r"^model\.embed_dim: expected an integer >= 1, got 0$"):
        main([*args, "0"])


def test_a_plain_value_error_of_a_model_is_named_after_the_model_key(fit_config):
    args = ["fit", "--config", str(fit_config()), "--model", "crash_helpers.CheckedFM", "--model.init_args.embed_dim"]
    with pytest.raises(ConfigError, match=r"^model: unlucky embed_dim 13$"):
        main([*args, "13"])


def test_parse_errors_are_one_line_with_the_dotted_key(fit_config, monkeypatch, capsys):
    code, err = run_console_in_process(
        monkeypatch, capsys, "fit", "--config", str(fit_config()), "--model.init_args.embed_dim", "four"
    )
    assert code == 2 and "usage:" not in err
    assert error_lines(err) == [
        "lit-ctr: error: model.embed_dim: Expected a <class 'int'>. Got value: four (see lit-ctr fit --help)"
    ]


def test_unknown_model_class_lists_the_models(fit_config, monkeypatch, capsys):
    code, err = run_console_in_process(monkeypatch, capsys, "fit", "--config", str(fit_config()), "--model", "DeepFn")
    assert code == 2
    [line] = error_lines(err)
    assert line.startswith(
        "lit-ctr: error: model: unknown class 'DeepFn'; expected one of AFM, AutoInt, DCN, DCNv2, DeepFM, FFM, FM"
    )


def test_debug_flag_shows_the_traceback_instead(fit_config, monkeypatch):
    monkeypatch.delenv("LIT_CTR_TRACEBACK", raising=False)
    monkeypatch.setattr("sys.argv", ["lit-ctr", "fit", "--debug", "--config", str(fit_config()),
                                     "--data.init_args.batch_size", "0"])  # fmt: skip
    with pytest.raises(LitCtrError, match="data.batch_size"):
        console_main()
