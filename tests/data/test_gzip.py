"""gzip-compressed CSV/TSV files are read like plain ones, or refused in one line."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from lit_ctr.data import DataError, FileFormat

TEXT = "label,user,item,price\n1,a,x,1.0\n0,b,y,2.0\n1,a,y,3.0\n"


def gzipped(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()))
    return path


def test_csv_gz_is_read_like_the_plain_csv(tmp_path, write, fit_encode, schema):
    plain = fit_encode(write("plain.csv", TEXT), schema)[1]
    packed = fit_encode(gzipped(tmp_path, "packed.csv.gz", TEXT), schema)[1]
    np.testing.assert_array_equal(packed.ids, plain.ids)
    np.testing.assert_array_equal(packed.numeric, plain.numeric)


def test_tsv_gz_is_read_as_tsv(tmp_path, fit_encode, schema):
    _, arrays = fit_encode(gzipped(tmp_path, "t.tsv.gz", TEXT.replace(",", "\t")), schema, FileFormat(has_header=True))
    assert arrays.labels.tolist() == [1, 0, 1]


def test_gzip_bytes_in_a_file_named_csv_are_decompressed(tmp_path, fit_encode, schema):
    _, arrays = fit_encode(gzipped(tmp_path, "named.csv", TEXT), schema)
    assert arrays.numeric[:, 0].tolist() == [1.0, 2.0, 3.0]


def test_bad_value_in_a_csv_gz_names_the_compressed_file_and_its_line(tmp_path, prepared, schema):
    path = gzipped(tmp_path, "bad.csv.gz", TEXT + "0,c,x,cheap\n")
    with pytest.raises(DataError) as info:
        prepared(path, schema)
    assert str(info.value) == f"{path}, line 5, column 'price': expected a number, found 'cheap'"


def test_truncated_gzip_file_is_a_data_error(tmp_path, prepared, schema):
    path = gzipped(tmp_path, "cut.csv.gz", TEXT * 50)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match=r"cut\.csv\.gz: not a readable gzip file"):
        prepared(path, schema)


def test_gzip_compressed_parquet_is_refused_in_one_line(tmp_path, prepared, schema):
    path = gzipped(tmp_path, "p.parquet.gz", "not parquet")
    with pytest.raises(DataError, match="a gzip-compressed Parquet file is not supported; decompress it first"):
        prepared(path, schema)


def test_csv_gz_training_file_goes_through_the_datamodule(tmp_path, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(gzipped(tmp_path, "train.csv.gz", TEXT)), chunk_rows=2)
    dm.setup("fit")
    assert len(dm.splits["train"]) == 3
