"""DeepCTR-Torch 0.3.0 throughput entry: pandas/sklearn preprocessing, then one epoch of fit().

DeepCTR-Torch has no FM model class, so "fm" is DeepFM with dnn_hidden_units=() (linear + FM part).
"""

import time

import _common as C

args = C.parse_args()
out = C.guard_stdout()
C.pin_threads()

import deepctr_torch  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from deepctr_torch.inputs import DenseFeat, SparseFeat, get_feature_names  # noqa: E402
from deepctr_torch.models import NFM, DeepFM  # noqa: E402
from sklearn.preprocessing import LabelEncoder, MinMaxScaler  # noqa: E402

# --- preprocess (timed): read TSV, fill NA, LabelEncoder per sparse column, MinMaxScaler on dense
t0 = time.perf_counter()
data = pd.read_csv(args.data, sep="\t", header=None, names=C.COLUMNS)
data[C.SPARSE] = data[C.SPARSE].fillna("-1")
data[C.DENSE] = data[C.DENSE].fillna(0)
for feat in C.SPARSE:
    data[feat] = LabelEncoder().fit_transform(data[feat])
data[C.DENSE] = MinMaxScaler(feature_range=(0, 1)).fit_transform(data[C.DENSE])
preprocess_s = time.perf_counter() - t0

# --- model (not timed)
columns = [SparseFeat(f, data[f].max() + 1, embedding_dim=C.EMBED_DIM) for f in C.SPARSE] + [
    DenseFeat(f, 1) for f in C.DENSE
]
model_input = {name: data[name] for name in get_feature_names(columns)}
labels = data["label"].values
if args.model == "nfm":
    model = NFM(columns, columns, dnn_hidden_units=C.HIDDEN, task="binary", device="cpu")
else:
    hidden = C.HIDDEN if args.model == "deepfm" else ()
    regularised = {}
    if args.preset == "regularised":
        # l2_reg_embedding: DeepCTR-Torch's L2 over the whole embedding tables, every step.
        regularised = {"dnn_use_bn": C.BATCH_NORM, "dnn_dropout": C.DROPOUT, "l2_reg_embedding": C.EMBEDDING_L2}
    model = DeepFM(columns, columns, dnn_hidden_units=hidden, task="binary", device="cpu", **regularised)
model.compile(torch.optim.Adam(model.parameters(), lr=C.LR), "binary_crossentropy")

# --- train (timed): fit() only, one epoch, no validation, no metrics
C.pin_threads()
t0 = time.perf_counter()
model.fit(model_input, labels, batch_size=C.BATCH, epochs=1, verbose=0)
train_s = time.perf_counter() - t0

C.report(
    out,
    args.json,
    "deepctr-torch",
    deepctr_torch.__version__,
    args.model,
    len(data),
    preprocess_s,
    train_s,
    args.preset,
)
