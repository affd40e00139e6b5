"""Data, by stage: schema → readers → checks → vocabulary → encoding → cache → batching,
run by the pipeline and driven by the DataModule."""

from lit_ctr.data.datamodule import CTRDataModule
from lit_ctr.data.errors import DataError, SchemaError
from lit_ctr.data.schema import Field, FileFormat, Schema
from lit_ctr.data.vocabulary import Vocabulary, fit_vocabulary
from lit_ctr.synthetic.datamodule import SyntheticCTRDataModule  # noqa: E402 - needs CTRDataModule first

__all__ = [
    "CTRDataModule",
    "DataError",
    "Field",
    "FileFormat",
    "Schema",
    "SchemaError",
    "SyntheticCTRDataModule",
    "Vocabulary",
    "fit_vocabulary",
]
