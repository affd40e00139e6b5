"""Config mistakes name their key; rows to score that lack schema columns list them."""

from __future__ import annotations

import polars as pl
import pytest
import torch
import yaml
from conftest import run_dir
from lit_ctr.cli import console_main, main

from lit_ctr.data import DataError, Schema, SchemaError
from lit_ctr.errors import CheckpointError
from lit_ctr.scoring import score

NAMES = ["I1", "I2"] + [f"C{i}" for i in range(1, 7)]


def cli_error(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    assert info.value.code != 0
    return capsys.readouterr().err


def test_unknown_model_names_the_model_key_and_the_value(fit_config, capsys):
    err = cli_error(capsys, "fit", "--config", str(fit_config()), "--model", "NoSuchModel")
    assert err.startswith(
        "lit-ctr: error: model: unknown class 'NoSuchModel'; expected one of AFM, AutoInt, DCN, DCNv2, DeepFM"
    )


def test_unknown_model_argument_names_the_argument(fit_config, capsys):
    err = cli_error(capsys, "fit", "--config", str(fit_config()), "--model.init_args.embed_dimm", "4")
    assert err == "lit-ctr: error: model: Option 'embed_dimm' is not accepted (see lit-ctr fit --help)\n"


def test_model_argument_of_the_wrong_type_names_the_argument(fit_config, capsys):
    err = cli_error(capsys, "fit", "--config", str(fit_config()), "--model.init_args.embed_dim", "four")
    assert (
        err == "lit-ctr: error: model.embed_dim: Expected a <class 'int'>. Got value: four (see lit-ctr fit --help)\n"
    )


def test_unknown_key_in_a_config_file_names_the_key(fit_config, capsys):
    config = fit_config()
    data = yaml.safe_load(config.read_text())
    data["data"]["init_args"]["batchsize"] = 64
    config.write_text(yaml.safe_dump(data))
    err = cli_error(capsys, "fit", "--config", str(config))
    assert err == "lit-ctr: error: data: Option 'batchsize' is not accepted (see lit-ctr fit --help)\n"


def test_unknown_trainer_key_names_the_key(fit_config, capsys):
    err = cli_error(capsys, "fit", "--config", str(fit_config()), "--trainer.max_epochz", "3")
    assert "--trainer.max_epochz" in err


def test_unknown_schema_field_kind_names_the_key(fit_config, capsys):
    config = fit_config()
    data = yaml.safe_load(config.read_text())
    data["data"]["init_args"]["schema"]["fields"][0]["kind"] = "numerical"
    config.write_text(yaml.safe_dump(data))
    err = cli_error(capsys, "fit", "--config", str(config))
    assert err.startswith(
        "lit-ctr: error: data.schema.fields.kind: Expected a typing.Literal['categorical', 'numeric', 'multi']"
    )
    assert "Got value: numerical" in err and len(err.splitlines()) == 1


def test_colliding_field_names_in_a_config_name_both_fields(fit_config):
    config = fit_config()
    data = yaml.safe_load(config.read_text())
    data["data"]["init_args"]["schema"]["fields"].append({"name": "C1"})
    config.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"schema\.fields\[8\] \('C1'\): name collides with schema\.fields\[2\]"):
        main(["fit", "--config", str(config)])


def test_missing_training_file_in_a_config_names_the_file(fit_config, tmp_path):
    with pytest.raises(DataError, match="no such file") as info:
        main(["fit", "--config", str(fit_config()), "--data.init_args.train_path", str(tmp_path / "nope.tsv")])
    assert info.value.file == str(tmp_path / "nope.tsv")


def test_the_executable_ends_bad_input_with_one_located_error_line_and_status_2(
    fit_config, tmp_path, capsys, monkeypatch
):
    missing = tmp_path / "nope.tsv"
    monkeypatch.delenv("LIT_CTR_TRACEBACK", raising=False)
    monkeypatch.setattr(
        "sys.argv", ["lit-ctr", "fit", "--config", str(fit_config()), "--data.init_args.train_path", str(missing)]
    )
    with pytest.raises(SystemExit) as info:
        console_main()
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.splitlines()[-1].startswith(f"lit-ctr: error: {missing}") and "no such file" in err
    assert "Traceback" not in err


def test_the_executable_shows_the_traceback_when_asked(fit_config, tmp_path, monkeypatch):
    monkeypatch.setenv("LIT_CTR_TRACEBACK", "1")
    monkeypatch.setattr(
        "sys.argv",
        ["lit-ctr", "fit", "--config", str(fit_config()), "--data.init_args.train_path", str(tmp_path / "nope.tsv")],
    )
    with pytest.raises(DataError, match="no such file"):
        console_main()


# ---------------------------------------------------------------------- predict
def raw_rows(synthetic_files) -> pl.DataFrame:
    raw = pl.read_csv(synthetic_files["test"], separator="\t", has_header=False, infer_schema=False).head(20)
    rows = raw.drop(raw.columns[0])
    rows.columns = NAMES
    return rows


def test_score_lists_the_schema_columns_the_rows_lack(reference_run, synthetic_files):
    best = run_dir(reference_run) / "checkpoints" / "best.ckpt"
    rows = raw_rows(synthetic_files).drop("C3", "I2").with_columns(extra=pl.lit("x"))
    with pytest.raises(DataError, match=r"lack schema column\(s\) \['I2', 'C3'\]"):
        score(best, rows)


def test_score_lists_the_schema_columns_a_file_lacks(reference_run, synthetic_files, tmp_path):
    best = run_dir(reference_run) / "checkpoints" / "best.ckpt"
    path = tmp_path / "rows.tsv"  # scored with the training format: headerless TSV, label + 8 fields
    raw_rows(synthetic_files).drop("C6").with_columns(label=pl.lit("0")).write_csv(
        path, separator="\t", include_header=False
    )
    with pytest.raises(DataError, match=r"expected 9 fields separated by '\\t', found 8") as info:
        score(best, path)
    assert info.value.file == str(path) and info.value.line == 1


def test_score_ignores_extra_columns(reference_run, synthetic_files):
    best = run_dir(reference_run) / "checkpoints" / "best.ckpt"
    rows = raw_rows(synthetic_files)
    assert (score(best, rows.with_columns(extra=pl.lit("x"))) == score(best, rows)).all()


def test_cli_predict_lists_the_schema_columns_the_file_lacks(reference_run, synthetic_files, tmp_path):
    best = run_dir(reference_run) / "checkpoints" / "best.ckpt"
    path = tmp_path / "rows.csv"
    raw_rows(synthetic_files).drop("C6").write_csv(path)
    # no logger: a CSVLogger in the reference run's folder would start its metrics.csv afresh
    args = ["predict", "--config", str(reference_run), "--ckpt_path", str(best), "--trainer.logger", "false",
            "--data.init_args.predict_path", str(path),
            "--data.init_args.predict_file_format", '{"kind": "csv"}', "--predictions.output", str(tmp_path / "p.csv")]  # fmt: skip
    with pytest.raises(
        DataError, match=r"lacks schema column\(s\) \['C6'\]; it has \['I1', 'I2', 'C1', 'C2', 'C3', 'C4', 'C5'\]"
    ) as info:
        main(args)
    assert info.value.file == str(path)


def test_schema_error_is_raised_for_colliding_names_in_python():
    with pytest.raises(SchemaError, match=r"schema\.fields\[1\] \('a'\): name collides with schema\.fields\[0\]"):
        Schema(fields=[{"name": "a"}, {"name": "a"}])


def test_rows_that_are_not_dicts_raise_data_error(reference_run):
    best = run_dir(reference_run) / "checkpoints" / "best.ckpt"
    with pytest.raises(DataError, match="expected a list of dicts"):
        score(best, [["0", "1"]])


def test_rows_holding_lists_raise_data_error_naming_the_columns(reference_run, synthetic_files):
    best = run_dir(reference_run) / "checkpoints" / "best.ckpt"
    rows = raw_rows(synthetic_files).with_columns(C2=pl.concat_list("C2", "C3"))
    with pytest.raises(DataError, match=r"column\(s\) \['C2'\] hold lists"):
        score(best, rows)


def test_file_that_is_not_a_lit_ctr_checkpoint_is_named(tmp_path):
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(CheckpointError, match="not a lit-ctr checkpoint") as info:
        score(path, [])
    assert info.value.file == str(path)


def test_cli_predict_without_rows_names_the_key(reference_run, tmp_path):
    best = run_dir(reference_run) / "checkpoints" / "best.ckpt"
    with pytest.raises(DataError, match="data.predict_path: expected the rows to score"):
        main(["predict", "--config", str(reference_run), "--ckpt_path", str(best), "--trainer.logger", "false",
              "--predictions.output", str(tmp_path / "p.csv")])  # fmt: skip
