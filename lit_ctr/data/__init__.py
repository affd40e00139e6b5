"""Data: schema, readers, vocabulary, encoding + cache, batching, datamodules."""

from lit_ctr.data.datamodule import CTRDataModule
from lit_ctr.data.errors import DataError, SchemaError
from lit_ctr.data.schema import Field, FileFormat, Schema
from lit_ctr.data.synthetic_datamodule import SyntheticCTRDataModule
from lit_ctr.data.vocabulary import Vocabulary, fit_vocabulary

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
