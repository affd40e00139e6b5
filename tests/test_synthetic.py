"""Tests of the synthetic Criteo-shaped generator with a planted FM."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from itertools import islice
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

import lit_ctr.data.progress as progress
from lit_ctr.synthetic import (
    MANIFEST_NAME,
    SyntheticSpec,
    bayes_optimal_auc,
    criteo_like_cardinalities,
    generate_chunks,
    generate_frame,
    write_synthetic,
)
from lit_ctr.synthetic import files as synthetic_files

TINY = SyntheticSpec(rows=500, num_numeric=3, cardinalities=[5, 40, 300], seed=7)


def _exact_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney AUC with average ranks for tied scores."""
    order = np.argsort(scores, kind="stable")
    _, inverse, counts = np.unique(scores[order], return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2
    ranks = np.empty(len(scores))
    ranks[order] = average_rank[inverse]
    positive = labels == 1
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _brute_force_bayes_auc(p: np.ndarray) -> float:
    pos, neg = p[:, None], 1 - p[None, :]
    credit = (p[:, None] > p[None, :]) + 0.5 * (p[:, None] == p[None, :])
    off_diagonal = ~np.eye(len(p), dtype=bool)
    pair_weight = (pos * neg)[off_diagonal]
    return float(np.sum(pair_weight * credit[off_diagonal]) / np.sum(pair_weight))


def test_same_seed_gives_identical_frames() -> None:
    first, truth_a = generate_frame(TINY)
    second, truth_b = generate_frame(TINY)
    assert first.equals(second)
    np.testing.assert_array_equal(truth_a.probabilities, truth_b.probabilities)


def test_different_seed_gives_different_frames() -> None:
    first, truth_a = generate_frame(TINY)
    second, truth_b = generate_frame(replace(TINY, seed=8))
    assert not first.equals(second)
    assert not np.allclose(truth_a.probabilities, truth_b.probabilities)


def test_columns_have_criteo_names_dtypes_and_order() -> None:
    frame, truth = generate_frame(TINY)
    assert frame.columns == ["label", "I1", "I2", "I3", "C1", "C2", "C3"]
    assert frame.dtypes == [pl.Int8] + [pl.Float64] * 3 + [pl.String] * 3
    assert frame.height == TINY.rows
    assert truth.probabilities.shape == (TINY.rows,)
    assert truth.probabilities.dtype == np.float64
    assert set(frame["label"].unique()) <= {0, 1}


def test_numeric_fields_are_non_negative_integer_counts_with_zeros() -> None:
    frame, _ = generate_frame(replace(TINY, rows=5_000))
    counts = frame.select(pl.col("^I.*$")).to_numpy()
    present = counts[~np.isnan(counts)]
    assert np.all(present >= 0)
    assert np.all(present == np.floor(present))
    assert np.any(present == 0)
    assert present.max() > 10 * np.median(present)  # heavy tail


def test_missing_rate_is_roughly_respected() -> None:
    spec = replace(TINY, rows=20_000, missing_rate=0.1)
    frame, _ = generate_frame(spec)
    features = frame.drop("label")
    rate = features.null_count().sum_horizontal().item() / (features.height * features.width)
    assert rate == pytest.approx(0.1, abs=0.01)
    assert frame["label"].null_count() == 0


def test_zero_missing_rate_leaves_no_empty_cell() -> None:
    frame, _ = generate_frame(replace(TINY, missing_rate=0.0))
    assert frame.null_count().sum_horizontal().item() == 0


def test_categorical_values_are_8_hex_digit_tokens() -> None:
    frame, _ = generate_frame(TINY)
    tokens = frame.select(pl.col("^C.*$")).unpivot()["value"].drop_nulls()
    assert all(re.fullmatch(r"[0-9a-f]{8}", token) for token in tokens)


def test_tokens_are_consistent_per_id_within_a_field() -> None:
    # A larger draw of the same spec sees the same ids again; each must print the same
    # token, so the small draw's tokens are a subset, and no field exceeds its cardinality.
    small, _ = generate_frame(replace(TINY, rows=300))
    large, _ = generate_frame(replace(TINY, rows=20_000))
    for name, cardinality in zip(["C1", "C2", "C3"], TINY.cardinalities, strict=True):
        large_tokens = set(large[name].drop_nulls())
        assert set(small[name].drop_nulls()) <= large_tokens
        assert len(large_tokens) <= cardinality
    assert len(set(large["C1"].drop_nulls())) == TINY.cardinalities[0]


def test_ids_of_a_field_print_distinct_tokens() -> None:
    spec = replace(TINY, rows=20_000, cardinalities=[50], zipf_exponent=0.01)
    frame, _ = generate_frame(spec)
    assert frame["C1"].drop_nulls().n_unique() == 50  # every id seen, no two sharing a token


def test_id_popularity_is_zipf_like() -> None:
    spec = replace(TINY, rows=50_000, cardinalities=[1000], missing_rate=0.0)
    frame, _ = generate_frame(spec)
    shares = frame["C1"].value_counts(sort=True)["count"].to_numpy() / spec.rows
    s, c = spec.zipf_exponent, 1000
    top_share = (1 - 2 ** (1 - s)) / (1 - (c + 1) ** (1 - s))  # mass of [1, 2) under x^-s on [1, c+1)
    assert shares[0] == pytest.approx(top_share, rel=0.1)
    top_two_ratio = (1 - 2 ** (1 - s)) / (2 ** (1 - s) - 3 ** (1 - s))  # [1, 2) against [2, 3)
    assert shares[0] / shares[1] == pytest.approx(top_two_ratio, rel=0.15)


@pytest.mark.parametrize("base_rate", [0.05, 0.25, 0.6])
def test_positive_rate_is_near_base_rate(base_rate: float) -> None:
    frame, truth = generate_frame(replace(TINY, rows=20_000, base_rate=base_rate))
    assert truth.probabilities.mean() == pytest.approx(base_rate, abs=0.01)
    assert frame["label"].mean() == pytest.approx(base_rate, abs=0.015)


def test_bayes_optimal_auc_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(200)
    p[:40] = np.round(p[:40], 1)  # ties must count half
    assert bayes_optimal_auc(p) == pytest.approx(_brute_force_bayes_auc(p), abs=1e-9)


def test_bayes_optimal_auc_is_half_for_constant_probabilities() -> None:
    assert bayes_optimal_auc(np.full(100, 0.3)) == pytest.approx(0.5, abs=1e-12)


def test_planted_truth_reports_bayes_auc_of_its_rows() -> None:
    _, truth = generate_frame(TINY)
    assert truth.bayes_auc == bayes_optimal_auc(truth.probabilities)
    assert 0.6 < truth.bayes_auc < 0.95


def test_pairwise_terms_carry_signal_beyond_logistic_regression() -> None:
    spec = SyntheticSpec(rows=50_000, seed=1)
    frame, truth = generate_frame(spec)
    labels = frame["label"].to_numpy()
    train, test = slice(0, 40_000), slice(40_000, None)
    scores = _fit_logistic_regression(frame, labels, train)
    lr_auc = _exact_auc(scores[test], labels[test])
    planted_auc = _exact_auc(truth.probabilities[test], labels[test])
    assert planted_auc - lr_auc >= 0.02


def _fit_logistic_regression(frame: pl.DataFrame, labels: np.ndarray, train: slice) -> np.ndarray:
    """Scores of a first-order model: one-hot ids (missing as its own id) plus standardized
    log-counts and their missing flags, fit to the training rows by L-BFGS (the loss is convex)."""
    one_hot = frame.select(pl.col("^C.*$").fill_null("")).to_dummies().to_numpy()
    log_counts = np.log1p(frame.select(pl.col("^I.*$")).to_numpy())
    standardized = (log_counts - np.nanmean(log_counts, 0)) / np.nanstd(log_counts, 0)
    features = np.concatenate([one_hot, np.nan_to_num(standardized), np.isnan(log_counts)], 1)
    x = torch.tensor(features, dtype=torch.float32)
    y = torch.tensor(labels[train], dtype=torch.float32)
    torch.manual_seed(0)
    model = torch.nn.Linear(x.shape[1], 1)
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=100, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x[train]).squeeze(1), y)
        loss.backward()
        return loss

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ops this small only lose to thread synchronisation
    try:
        optimizer.step(closure)
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        return model(x).squeeze(1).numpy()


@pytest.mark.parametrize("file_format", ["tsv", "csv", "parquet"])
def test_write_synthetic_writes_each_split_with_its_row_count(tmp_path: Path, file_format: str) -> None:
    spec = replace(TINY, rows=1_000)
    paths = write_synthetic(tmp_path / "data", spec, file_format=file_format)
    assert paths == {s: tmp_path / "data" / f"{s}.{file_format}" for s in ("train", "valid", "test")}
    rows = {split: len(_read(path, file_format)) for split, path in paths.items()}
    assert rows == {"train": 800, "valid": 100, "test": 100}


def _read(path: Path, file_format: str) -> pl.DataFrame:
    # Text read as strings: a hex token such as "1e234567" would otherwise parse as a float.
    if file_format == "tsv":
        return pl.read_csv(path, separator="\t", has_header=False, infer_schema=False)
    if file_format == "csv":
        return pl.read_csv(path, infer_schema=False)
    return pl.read_parquet(path)


def test_write_synthetic_tsv_has_criteo_raw_layout(tmp_path: Path) -> None:
    spec = replace(TINY, rows=1_000, missing_rate=0.2)
    frame, _ = generate_frame(spec)
    paths = write_synthetic(tmp_path, spec, splits={"train": 1.0})
    lines = paths["train"].read_text().splitlines()
    first = lines[0].split("\t")
    assert len(first) == frame.width
    assert first[0] in {"0", "1"}  # no header
    cells = [cell for line in lines for cell in line.split("\t")]
    assert "" in cells  # missing values are empty
    assert not any(cell.endswith(".0") for cell in cells)  # counts print as integers
    read_back = _read(paths["train"], "tsv").with_columns(pl.all().replace("", None))
    read_back.columns = frame.columns
    expected = frame.with_columns(pl.col("^I.*$").cast(pl.Int64)).cast(pl.String)
    assert read_back.equals(expected)


def test_write_synthetic_records_spec_and_split_stats(tmp_path: Path) -> None:
    spec = replace(TINY, rows=1_000)
    write_synthetic(tmp_path, spec, splits={"train": 0.5, "test": 0.5})
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert manifest["spec"]["rows"] == 1_000
    assert manifest["spec"]["cardinalities"] == TINY.cardinalities
    assert set(manifest["stats"]) == {"train", "test"}
    for stats in manifest["stats"].values():
        assert stats["rows"] == 500
        assert 0 < stats["positive_rate"] < 1
        assert 0.5 < stats["bayes_auc"] < 1


def test_write_synthetic_reuses_an_identical_existing_dataset(tmp_path: Path) -> None:
    first = write_synthetic(tmp_path, TINY)
    mtimes = {path: path.stat().st_mtime_ns for path in tmp_path.iterdir()}
    second = write_synthetic(tmp_path, TINY)
    assert second == first
    assert {path: path.stat().st_mtime_ns for path in tmp_path.iterdir()} == mtimes


def test_write_synthetic_regenerates_on_a_changed_spec(tmp_path: Path) -> None:
    write_synthetic(tmp_path, TINY)
    before = _read(tmp_path / "train.tsv", "tsv")
    write_synthetic(tmp_path, replace(TINY, seed=8))
    after = _read(tmp_path / "train.tsv", "tsv")
    assert not before.equals(after)
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["spec"]["seed"] == 8


def test_write_synthetic_replaces_files_of_another_format(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "data", TINY, file_format="csv")
    write_synthetic(tmp_path / "data", TINY, file_format="parquet")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        MANIFEST_NAME,
        "test.parquet",
        "train.parquet",
        "valid.parquet",
    ]


def _interrupt_after_first_file(monkeypatch: pytest.MonkeyPatch) -> None:
    write_frame = synthetic_files._write_frame

    def write_then_interrupt(*args: object) -> None:
        write_frame(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(synthetic_files, "_write_frame", write_then_interrupt)


def test_interrupted_write_leaves_no_dataset_and_no_temporary_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupt_after_first_file(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        write_synthetic(tmp_path / "data", TINY)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_regeneration_keeps_the_previous_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_synthetic(tmp_path / "data", TINY)
    _interrupt_after_first_file(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        write_synthetic(tmp_path / "data", replace(TINY, seed=8))
    assert [p.name for p in tmp_path.iterdir()] == ["data"]
    assert json.loads((tmp_path / "data" / MANIFEST_NAME).read_text())["spec"]["seed"] == TINY.seed


def test_split_without_rows_raises_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"splits\['test'\] gets no rows"):
        write_synthetic(tmp_path / "data", replace(TINY, rows=5), splits={"train": 0.95, "test": 0.05})
    assert list(tmp_path.iterdir()) == []


def test_write_synthetic_refuses_a_foreign_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a dataset")
    with pytest.raises(FileExistsError):
        write_synthetic(tmp_path, TINY)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_first_chunk_equals_a_single_run_of_chunk_size() -> None:
    spec = replace(TINY, rows=1_000)
    frame, probabilities = next(generate_chunks(spec, 300))
    single, truth = generate_frame(replace(spec, rows=300))
    assert frame.equals(single)
    np.testing.assert_array_equal(probabilities, truth.probabilities)


def test_chunks_share_planted_parameters_and_cover_all_rows() -> None:
    spec = replace(TINY, rows=1_000)
    chunks = list(generate_chunks(spec, 300))
    assert [frame.height for frame, _ in chunks] == [300, 300, 300, 100]
    assert not chunks[0][0].equals(chunks[1][0])  # each chunk draws its own rows
    # Chunk c depends only on (seed, c): a longer run reproduces it exactly, which
    # holds only if both runs planted the same model.
    longer = islice(generate_chunks(replace(spec, rows=5_000), 300), 3)
    for (frame, probabilities), (same_frame, same_probabilities) in zip(chunks[:3], longer, strict=True):
        assert frame.equals(same_frame)
        np.testing.assert_array_equal(probabilities, same_probabilities)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rows", 0),
        ("rows", 10.5),
        ("num_numeric", -1),
        ("cardinalities", [5, 0]),
        ("latent_dim", 0),
        ("zipf_exponent", 0.0),
        ("missing_rate", 1.0),
        ("base_rate", 0.0),
        ("base_rate", 1.0),
        ("seed", -1),
    ],
)
def test_invalid_spec_raises_value_error_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"SyntheticSpec\.{field}"):
        SyntheticSpec(**{field: value})


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        ({"train": 0.8, "test": 0.1}, "sum to 1"),
        ({"train": 1.2, "test": -0.2}, r"splits\['test'\]"),
        ({}, "at least one"),
        ({"../x": 1.0}, "name"),
    ],
)
def test_invalid_splits_raise_value_error(tmp_path: Path, splits: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_synthetic(tmp_path, TINY, splits=splits)


def test_invalid_file_format_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file_format"):
        write_synthetic(tmp_path, TINY, file_format="json")  # type: ignore[arg-type]


def test_invalid_chunk_rows_raises_value_error() -> None:
    with pytest.raises(ValueError, match="chunk_rows"):
        generate_chunks(TINY, 0)


def test_criteo_like_cardinalities_follow_the_criteo_mix() -> None:
    cardinalities = criteo_like_cardinalities(26, 1_000_000)
    assert len(cardinalities) == 26
    assert max(cardinalities) == 1_000_000
    assert min(cardinalities) >= 1
    assert sum(c >= 100_000 for c in cardinalities) >= 4  # a few huge fields
    assert sum(c <= 100 for c in cardinalities) >= 8  # and many tiny ones
    assert criteo_like_cardinalities(30, 1000)[26:] == criteo_like_cardinalities(4, 1000)


@pytest.mark.parametrize("file_format", ["tsv", "csv"])
def test_write_synthetic_in_slices_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_format: str
) -> None:
    whole = write_synthetic(tmp_path / "whole", TINY, file_format=file_format)
    monkeypatch.setattr(synthetic_files, "WRITE_ROWS", 7)
    sliced = write_synthetic(tmp_path / "sliced", TINY, file_format=file_format)
    assert all(whole[s].read_bytes() == sliced[s].read_bytes() for s in whole)


def test_write_synthetic_logs_rows_written_of_the_total_with_an_eta(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(synthetic_files, "WRITE_ROWS", 100)
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)
    with caplog.at_level(logging.INFO, logger="lit_ctr"):
        write_synthetic(tmp_path, TINY)
    lines = [r.getMessage() for r in caplog.records if "writing synthetic rows" in r.getMessage()]
    assert lines and all(re.search(r"writing synthetic rows: \d+ of 500 \(\d+%, ETA (\?|\d+s)\)", x) for x in lines)
    assert lines[-1].startswith("lit-ctr: writing synthetic rows: 500 of 500 (100%")
