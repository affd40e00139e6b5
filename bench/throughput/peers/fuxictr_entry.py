"""FuxiCTR 2.3.10 throughput entry: FeatureProcessor + build_dataset (Ray -> parquet), then
one epoch of BaseModel.fit() over its ParquetDataLoader.

The PyPI wheel ships no DeepFM/NFM/FM classes, so they are composed here from the
library's public layers the way its model_zoo does.
"""

import os
import shutil
import tempfile
import time

import _common as C

args = C.parse_args()
out = C.guard_stdout()
C.pin_threads()
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import fuxictr  # noqa: E402
import polars as pl  # noqa: E402
from fuxictr.features import FeatureMap  # noqa: E402
from fuxictr.preprocess import FeatureProcessor, build_dataset  # noqa: E402
from fuxictr.pytorch.dataloaders import RankDataLoader  # noqa: E402
from fuxictr.pytorch.layers import (
    FactorizationMachine,
    FeatureEmbedding,  # noqa: E402
    InnerProductInteraction,
    LogisticRegression,
    MLP_Block,
)
from fuxictr.pytorch.models import BaseModel  # noqa: E402


class HeaderlessTSVProcessor(FeatureProcessor):
    """FeatureProcessor.read_data scans '*.csv' files with a header row; the raw Criteo
    TSV has none, so only the reader is swapped (same lazy polars scan, named columns)."""

    def read_data(self, data_path, data_format="csv", sep="\t", n_rows=None, **kwargs):
        return pl.scan_csv(
            data_path,
            separator=sep,
            has_header=False,
            new_columns=C.COLUMNS,
            schema_overrides=self.dtype_dict,
            low_memory=False,
            n_rows=n_rows,
        )


class ZooModel(BaseModel):
    """Common constructor tail of model_zoo models; evaluation switched off."""

    def finish(self):
        self.compile("adam", "binary_crossentropy", C.LR)
        self.reset_parameters()
        self.model_to_device()

    def load_weights(self, checkpoint):
        # fit() reloads the best checkpoint at the end; with evaluation off none is written.
        pass


class DeepFM(ZooModel):
    def __init__(self, feature_map, **kwargs):
        super().__init__(feature_map, model_id="DeepFM", **kwargs)
        self.embedding_layer = FeatureEmbedding(feature_map, C.EMBED_DIM)
        self.fm = FactorizationMachine(feature_map)
        regularised = kwargs["preset"] == "regularised"
        self.mlp = MLP_Block(
            input_dim=feature_map.sum_emb_out_dim(),
            output_dim=1,
            hidden_units=list(C.HIDDEN),
            hidden_activations="ReLU",
            batch_norm=C.BATCH_NORM and regularised,
            dropout_rates=C.DROPOUT if regularised else 0.0,
        )
        self.finish()

    def forward(self, inputs):
        X = self.get_inputs(inputs)
        feature_emb = self.embedding_layer(X)
        y_pred = self.fm(X, feature_emb) + self.mlp(feature_emb.flatten(start_dim=1))
        return {"y_pred": self.output_activation(y_pred)}


class NFM(ZooModel):
    def __init__(self, feature_map, **kwargs):
        super().__init__(feature_map, model_id="NFM", **kwargs)
        self.embedding_layer = FeatureEmbedding(feature_map, C.EMBED_DIM)
        self.lr_layer = LogisticRegression(feature_map, use_bias=True)
        self.bi_pooling_layer = InnerProductInteraction(feature_map.num_fields, output="bi_interaction")
        self.dnn = MLP_Block(
            input_dim=C.EMBED_DIM, output_dim=1, hidden_units=list(C.HIDDEN), hidden_activations="ReLU"
        )
        self.finish()

    def forward(self, inputs):
        X = self.get_inputs(inputs)
        bi_pooling = self.bi_pooling_layer(self.embedding_layer(X))
        y_pred = self.lr_layer(X) + self.dnn(bi_pooling)
        return {"y_pred": self.output_activation(y_pred)}


class FM(ZooModel):
    def __init__(self, feature_map, **kwargs):
        super().__init__(feature_map, model_id="FM", **kwargs)
        self.embedding_layer = FeatureEmbedding(feature_map, C.EMBED_DIM)
        self.fm_layer = FactorizationMachine(feature_map)
        self.finish()

    def forward(self, inputs):
        X = self.get_inputs(inputs)
        y_pred = self.fm_layer(X, self.embedding_layer(X))
        return {"y_pred": self.output_activation(y_pred)}


work = tempfile.mkdtemp(prefix="fuxictr_bench_")
try:
    # --- preprocess (timed): polars scan + fit vocab/scalers + Ray transform + parquet write
    t0 = time.perf_counter()
    processor = HeaderlessTSVProcessor(
        feature_cols=[
            {"name": C.DENSE, "active": True, "dtype": "float", "type": "numeric", "normalizer": "MinMaxScaler"},
            {"name": C.SPARSE, "active": True, "dtype": "str", "type": "categorical"},
        ],
        label_col={"name": "label", "dtype": "float"},
        dataset_id="criteo_bench",
        data_root=work,
    )
    train_path, _, _ = build_dataset(processor, train_data=args.data, min_categr_count=1)
    preprocess_s = time.perf_counter() - t0

    # --- model + loader (not timed)
    feature_map = FeatureMap("criteo_bench", processor.data_dir)
    feature_map.load(os.path.join(processor.data_dir, "feature_map.json"), {"embedding_dim": C.EMBED_DIM})
    train_gen, _ = RankDataLoader(
        feature_map, stage="train", train_data=train_path, batch_size=C.BATCH, shuffle=True, data_format="parquet"
    )
    model_cls = {"deepfm": DeepFM, "nfm": NFM, "fm": FM}[args.model]
    # embedding_regularizer: FuxiCTR's L2 over the whole embedding tables, every step.
    regularizer = C.EMBEDDING_L2 if args.preset == "regularised" else None
    model = model_cls(
        feature_map,
        gpu=-1,
        verbose=0,
        model_root=work,
        metrics=["logloss"],
        eval_steps=10**12,
        preset=args.preset,
        embedding_regularizer=regularizer,
    )  # never reaches an evaluation step

    # --- train (timed): BaseModel.fit(), one epoch (includes the loader's per-epoch Ray shuffle)
    C.pin_threads()
    t0 = time.perf_counter()
    model.fit(train_gen, epochs=1)
    train_s = time.perf_counter() - t0
    rows = train_gen.num_samples
finally:
    shutil.rmtree(work, ignore_errors=True)

C.report(out, args.json, "fuxictr", fuxictr.__version__, args.model, rows, preprocess_s, train_s, args.preset)
