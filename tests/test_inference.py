"""Schema inference: the fields a file's columns become when schema.fields is left out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from lit_ctr.cli import main

from lit_ctr.data import DataError, FileFormat, Schema, SchemaError
from lit_ctr.data.inference import infer_schema


def write_csv(tmp_path: Path, columns: dict, name: str = "train.csv", header: bool = True) -> Path:
    path = tmp_path / name
    pl.DataFrame(columns).write_csv(path, include_header=header)
    return path


def kinds(inferred) -> dict[str, tuple[str, str]]:
    return {f.name: (f.kind, f.transform) for f in inferred.schema.fields}


def test_strings_booleans_and_integers_are_categorical(tmp_path):
    path = write_csv(
        tmp_path,
        {"click": [0, 1, 0, 1], "city": ["a", "b", "a", "b"], "flag": [True, False, True, True], "n": [3, 1, 3, 2]},
    )
    assert kinds(infer_schema(path, "click")) == {
        "city": ("categorical", "none"),
        "flag": ("categorical", "none"),
        "n": ("categorical", "none"),
    }


def test_floats_are_numeric_with_the_signed_log1p_transform(tmp_path):
    path = write_csv(tmp_path, {"click": [0, 1, 0, 1], "price": [0.5, 12.25, 0.5, 3000.75]})
    assert kinds(infer_schema(path, "click")) == {"price": ("numeric", "log1p")}


def test_a_float_column_of_whole_numbers_is_an_id_column_and_categorical(tmp_path):
    path = write_csv(tmp_path, {"click": [0, 1, 0, 1], "ad": [4.0, 7.0, 4.0, None]})
    assert kinds(infer_schema(path, "click")) == {"ad": ("categorical", "none")}


def test_the_label_and_excluded_columns_are_not_fields(tmp_path):
    path = write_csv(tmp_path, {"a": ["x", "y", "x"], "click": [0, 1, 0], "leak": [1, 0, 1]})
    inferred = infer_schema(path, "click", exclude=["leak"])
    assert [f.name for f in inferred.schema.fields] == ["a"]
    assert inferred.schema.label == "click"


def test_constant_and_unique_per_row_columns_are_left_out_each_with_a_line_saying_how_to_keep_it(tmp_path):
    path = write_csv(
        tmp_path, {"id": ["r1", "r2", "r3", "r4"], "click": [0, 1, 0, 1], "site": ["s"] * 4, "u": ["a", "b", "a", "a"]}
    )
    inferred = infer_schema(path, "click")
    assert [f.name for f in inferred.schema.fields] == ["u"]
    lines = inferred.report_lines()
    assert len(lines) == 2
    assert "'id'" in lines[0] and "a different value in each" in lines[0] and "--data.schema.keep '[id]'" in lines[0]
    assert "'site'" in lines[1] and "constant" in lines[1] and "--data.schema.keep '[site]'" in lines[1]


def test_schema_keep_keeps_a_constant_or_unique_column(tmp_path):
    path = write_csv(tmp_path, {"id": ["r1", "r2", "r3"], "click": [0, 1, 0], "site": ["s"] * 3})
    inferred = infer_schema(path, "click", keep=["id", "site"])
    assert [f.name for f in inferred.schema.fields] == ["id", "site"]
    assert inferred.left_out == []


def test_unique_floats_are_measurements_and_stay(tmp_path):
    path = write_csv(tmp_path, {"click": [0, 1, 0], "price": [0.5, 1.5, 2.25]})
    assert kinds(infer_schema(path, "click")) == {"price": ("numeric", "log1p")}


def test_only_the_first_sample_rows_are_read(tmp_path):
    # 'late' is constant in the first 3 rows and varies after them.
    path = write_csv(tmp_path, {"click": [0, 1, 0, 1, 0], "u": ["a", "b", "a", "b", "a"], "late": [1, 1, 1, 2, 3]})
    inferred = infer_schema(path, "click", sample_rows=3)
    assert inferred.rows == 3
    assert [o.column for o in inferred.left_out] == ["late"]


def test_a_headerless_file_gets_column_1_to_n_names(tmp_path):
    path = write_csv(tmp_path, {"y": [1, 0, 1], "c": ["a", "b", "a"], "x": [0.5, 1.5, 2.5]}, "t.tsv", header=False)
    path.write_text(path.read_text().replace(",", "\t"))
    inferred = infer_schema(path, "column_1")
    assert kinds(inferred) == {"column_2": ("categorical", "none"), "column_3": ("numeric", "log1p")}
    assert inferred.file_format.columns == ["column_1", "column_2", "column_3"]
    assert inferred.file_format.has_header is False


def test_a_headerless_file_takes_the_users_column_names(tmp_path):
    path = write_csv(tmp_path, {"y": [1, 0, 1], "c": ["a", "b", "a"]}, header=False)
    fmt = FileFormat(has_header=False, columns=["click", "city"])
    inferred = infer_schema(path, "click", file_format=fmt)
    assert [f.name for f in inferred.schema.fields] == ["city"]


def test_a_missing_label_is_an_error_naming_the_file_and_its_columns(tmp_path):
    path = write_csv(tmp_path, {"a": ["x", "y"], "b": [0, 1]})
    with pytest.raises(DataError, match=r"train\.csv: schema\.label: no column 'click' in the file; its columns are"):
        infer_schema(path, "click")


def test_an_excluded_column_the_file_lacks_is_an_error(tmp_path):
    path = write_csv(tmp_path, {"a": ["x", "y"], "click": [0, 1]})
    with pytest.raises(DataError, match=r"schema\.exclude: no column\(s\) \['id'\]"):
        infer_schema(path, "click", exclude=["id"])


def test_a_line_with_the_wrong_number_of_fields_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("a,b,click\n1,2,0\n1,2\n")
    with pytest.raises(DataError, match=r"train\.csv, line 3: expected 3 fields separated by ',', found 2"):
        infer_schema(path, "click")


def test_no_feature_left_is_an_error(tmp_path):
    path = write_csv(tmp_path, {"site": ["s", "s"], "click": [0, 1]})
    with pytest.raises(DataError, match="no feature column left"):
        infer_schema(path, "click")


def test_a_schema_without_fields_in_python_is_an_error_that_names_the_way_out():
    with pytest.raises(SchemaError, match=r"schema\.fields: expected a list of fields .*infer"):
        Schema(label="click")


def test_exclude_and_keep_do_not_change_the_schemas_plain_data():
    a = Schema(fields=[{"name": "u"}], label="y")
    b = Schema(fields=[{"name": "u"}], label="y", exclude=["id"], keep=["site"])
    assert a.to_dict() == b.to_dict()


def test_the_schema_command_prints_a_data_config_ready_to_use(tmp_path, capsys):
    path = write_csv(tmp_path, {"id": [1, 2, 3], "click": [0, 1, 0], "u": ["a", "b", "a"], "p": [0.5, 1.5, 2.5]})
    main(["schema", str(path), "--label", "click", "--exclude", "id"])
    out = capsys.readouterr()
    config = yaml.safe_load(out.out)
    assert config == {
        "data": {
            "class_path": "CTRDataModule",
            "init_args": {
                "train_path": str(path),
                "schema": {
                    "label": "click",
                    "fields": [{"name": "u"}, {"name": "p", "kind": "numeric", "transform": "log1p"}],
                },
            },
        }
    }
    assert out.err == ""


def fit_without_fields(tmp_path: Path) -> subprocess.CompletedProcess:
    rng = np.random.default_rng(0)
    n = 300
    user = rng.choice(["a", "b", "c", "d"], n)
    write_csv(
        tmp_path,
        {
            "id": np.arange(n),
            "user": user,
            "site": ["s"] * n,
            "price": rng.random(n) * 10,
            "slot": rng.integers(0, 4, n).astype(float),
            "click": (user == "a").astype(int),
        },
        "data.csv",
    )
    command = [
        "lit-ctr", "fit", "--model", "LR", "--data.train_path", "data.csv", "--data.valid_path", "data.csv",
        "--data.schema.label", "click", "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false",
    ]  # fmt: skip
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_fit_without_schema_fields_infers_them_and_saves_them_in_config_yaml(tmp_path):
    result = fit_without_fields(tmp_path)
    assert result.returncode == 0, result.stderr
    (config_file,) = tmp_path.glob("lightning_logs/version_0/config.yaml")
    schema = yaml.safe_load(config_file.read_text())["data"]["init_args"]["schema"]
    assert schema["label"] == "click"
    assert [(f["name"], f["kind"], f["transform"]) for f in schema["fields"]] == [
        ("user", "categorical", "none"),
        ("price", "numeric", "log1p"),
        ("slot", "categorical", "none"),
    ]
    assert "lit-ctr: left out column 'id'" in result.stderr
    assert "lit-ctr: left out column 'site'" in result.stderr
    assert "- {name: price, kind: numeric, transform: log1p}" in result.stderr


def test_fit_without_schema_fields_and_a_wrong_label_ends_in_one_error_line(tmp_path):
    write_csv(tmp_path, {"u": ["a", "b"], "y": [0, 1]}, "data.csv")
    result = subprocess.run(
        ["lit-ctr", "fit", "--model", "LR", "--data.train_path", "data.csv", "--data.schema.label", "click"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines()[-1].startswith("lit-ctr: error: data.csv: schema.label: no column 'click'")
    )
    assert "Traceback" not in result.stderr


def test_with_a_checkpoint_the_fields_come_from_its_schema_not_from_a_file(tmp_path):
    import torch
    from jsonargparse import Namespace

    from lit_ctr.data.inference import complete_data_config

    saved = Schema(fields=[{"name": "user"}, {"name": "price", "kind": "numeric", "transform": "log1p"}], label="click")
    torch.save(
        {"state_dict": {}, "CTRDataModule": {"preprocessing": {"schema": saved.to_dict(), "vocabulary": {}}}},
        tmp_path / "best.ckpt",
    )
    config = Namespace(
        ckpt_path=str(tmp_path / "best.ckpt"),
        data=Namespace(
            class_path="lit_ctr.data.CTRDataModule",
            init_args=Namespace(schema=Namespace(fields=None, label="click"), train_path=None, path=None),
        ),
    )
    complete_data_config(config)
    fields = config.data.init_args.schema.fields
    assert [(f.name, f.kind, f.transform) for f in fields] == [
        ("user", "categorical", "none"),
        ("price", "numeric", "log1p"),
    ]


def test_without_fields_a_file_or_a_checkpoint_to_infer_from_is_an_error():
    from jsonargparse import Namespace

    from lit_ctr.data.inference import complete_data_config

    config = Namespace(
        ckpt_path=None,
        data=Namespace(init_args=Namespace(schema=Namespace(fields=None, label="click"), train_path=None, path=None)),
    )
    with pytest.raises(SchemaError, match=r"schema\.fields: not given, and there is no train_path \(or path\)"):
        complete_data_config(config)


def multi_settings(inferred, name: str) -> dict:
    f = next(f for f in inferred.schema.fields if f.name == name)
    return {"kind": f.kind, "separator": f.separator, "max_len": f.max_len, "value_weights": f.value_weights}


def test_a_string_column_of_pipe_joined_values_is_a_multi_field_whose_max_len_covers_the_rows(tmp_path):
    path = write_csv(tmp_path, {"click": [0, 1, 0, 1], "tags": ["a|b", "c", "a|b|c|d", None]})
    assert multi_settings(infer_schema(path, "click"), "tags") == {
        "kind": "multi", "separator": "|", "max_len": 4, "value_weights": False,
    }  # fmt: skip


def test_semicolon_joined_values_keep_their_separator(tmp_path):
    path = write_csv(tmp_path, {"click": [0, 1, 0], "genres": ["x;y", "y;z", "x"]})
    assert multi_settings(infer_schema(path, "click"), "genres")["separator"] == ";"


def test_values_written_with_weights_make_a_weighted_multi_field(tmp_path):
    path = write_csv(tmp_path, {"click": [0, 1, 0], "tags": ["a:0.5|b:2", "c:1e-1", "a:3|d:.25"]})
    assert multi_settings(infer_schema(path, "click"), "tags")["value_weights"] is True


def test_a_parquet_list_column_is_a_multi_field(tmp_path):
    path = tmp_path / "train.parquet"
    pl.DataFrame({"click": [0, 1, 0], "tags": [["a", "b"], ["c"], ["a", "b", "c"]]}).write_parquet(path)
    assert multi_settings(infer_schema(path, "click"), "tags")["kind"] == "multi"


def test_a_column_with_a_separator_in_few_cells_stays_categorical(tmp_path):
    path = write_csv(tmp_path, {"click": [0, 1] * 5, "site": ["a|b"] + ["c", "d", "e"] * 3})
    assert kinds(infer_schema(path, "click"))["site"] == ("categorical", "none")


def test_tag_lists_that_differ_in_every_row_are_not_left_out_as_ids(tmp_path):
    path = write_csv(tmp_path, {"click": [0, 1, 0], "tags": ["a|b", "b|c", "a|c"], "u": ["x", "y", "x"]})
    inferred = infer_schema(path, "click")
    assert [f.name for f in inferred.schema.fields] == ["tags", "u"]
    assert inferred.left_out == []


def test_the_inferred_multi_field_is_written_with_its_settings_in_the_yaml(tmp_path):
    path = write_csv(tmp_path, {"click": [0, 1, 0], "tags": ["a:1|b:2", "c:1", "a:2|b:1|c:3"]})
    fields = yaml.safe_load(infer_schema(path, "click").to_yaml())["data"]["init_args"]["schema"]["fields"]
    assert fields == [{"name": "tags", "kind": "multi", "max_len": 3, "value_weights": True}]  # "|" is the default


def test_a_checkpoints_multi_field_keeps_its_separator_max_len_and_weights_when_filled_in(tmp_path):
    import torch
    from jsonargparse import Namespace

    from lit_ctr.data.inference import complete_data_config

    tags = {"name": "tags", "kind": "multi", "separator": ";", "max_len": 7, "value_weights": True}
    saved = Schema(fields=[tags], label="click")
    torch.save(
        {"state_dict": {}, "CTRDataModule": {"preprocessing": {"schema": saved.to_dict(), "vocabulary": {}}}},
        tmp_path / "best.ckpt",
    )
    config = Namespace(
        ckpt_path=str(tmp_path / "best.ckpt"),
        data=Namespace(init_args=Namespace(schema=Namespace(fields=None, label="click"), train_path=None, path=None)),
    )
    complete_data_config(config)
    (f,) = config.data.init_args.schema.fields
    assert (f.kind, f.separator, f.max_len, f.value_weights) == ("multi", ";", 7, True)


def test_fit_without_schema_fields_trains_on_an_inferred_weighted_multi_field(tmp_path):
    rng = np.random.default_rng(0)
    tags = ["|".join(f"t{t}:{rng.uniform(0, 2):.2f}" for t in rng.choice(6, rng.integers(0, 4), replace=False)) for _ in range(300)]  # fmt: skip
    write_csv(tmp_path, {"tags": tags, "click": [int("t1" in t) for t in tags]}, "data.csv")
    command = [
        "lit-ctr", "fit", "--model", "DeepFM", "--data.train_path", "data.csv", "--data.valid_path", "data.csv",
        "--data.schema.label", "click", "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (config_file,) = tmp_path.glob("lightning_logs/version_0/config.yaml")
    (tags_field,) = yaml.safe_load(config_file.read_text())["data"]["init_args"]["schema"]["fields"]
    assert (tags_field["kind"], tags_field["max_len"], tags_field["value_weights"]) == ("multi", 3, True)
