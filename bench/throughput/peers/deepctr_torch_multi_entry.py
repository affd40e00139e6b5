"""DeepCTR-Torch 0.3.0 DeepFM with two multi-valued fields (VarLenSparseFeat, mean combiner):
one epoch of fit() on the Criteo-shaped TSV of bench/throughput/multi_valued.py (label,
I1..I13, C1..C26, M1, M2; M fields ``|``-separated, empty = no values).

Preprocessing (timed, reported apart): pandas read, LabelEncoder per sparse column, the
multi columns split, encoded with one shared index per field (0 = padding) and padded to
``--max_len`` with keras-style ``pad_sequences`` semantics (post padding, keep first).
The encoders and vocabularies are fitted on the whole file, so the model (its tables'
sizes) is the one for all of its rows.

Training (timed): one epoch of fit() on the file's first ``--train_rows`` rows (all of
them by default), after an untimed warm-up fit() of ``--warmup_batches`` batches (3, as
lit-ctr's side of bench/throughput/multi_valued.py). ``rows`` in the result is the rows
the timed fit() trained on, and ``samples_per_s`` is ``rows / train_s``.
"""

import argparse
import time

import _common as C

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--data", required=True)
parser.add_argument("--json", required=True)
parser.add_argument("--max_len", type=int, default=20)
parser.add_argument("--without_multi", action="store_true", help="the same rows, multi fields left out")
parser.add_argument("--train_rows", type=int, default=None, help="time fit() on the first N rows only")
parser.add_argument("--warmup_batches", type=int, default=3, help="untimed fit() batches before the timed one")
args = parser.parse_args()
out = C.guard_stdout()
C.pin_threads()

import deepctr_torch  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from deepctr_torch.inputs import DenseFeat, SparseFeat, VarLenSparseFeat, get_feature_names  # noqa: E402
from deepctr_torch.models import DeepFM  # noqa: E402
from sklearn.preprocessing import LabelEncoder, MinMaxScaler  # noqa: E402

MULTI = ["M1", "M2"]
t0 = time.perf_counter()
data = pd.read_csv(args.data, sep="\t", header=None, names=C.COLUMNS + MULTI, dtype={m: str for m in MULTI})
data[C.SPARSE] = data[C.SPARSE].fillna("-1")
data[C.DENSE] = data[C.DENSE].fillna(0)
for feat in C.SPARSE:
    data[feat] = LabelEncoder().fit_transform(data[feat])
data[C.DENSE] = MinMaxScaler(feature_range=(0, 1)).fit_transform(data[C.DENSE])
padded, vocab_sizes = {}, {}
if not args.without_multi:
    for m in MULTI:
        lists = data[m].fillna("").str.split("|")
        index: dict[str, int] = {}
        array = np.zeros((len(data), args.max_len), dtype=np.int64)
        for row, values in enumerate(lists):
            ids = [index.setdefault(v, len(index) + 1) for v in values if v][: args.max_len]
            array[row, : len(ids)] = ids
        padded[m], vocab_sizes[m] = array, len(index) + 1
preprocess_s = time.perf_counter() - t0

columns = [SparseFeat(f, data[f].max() + 1, embedding_dim=C.EMBED_DIM) for f in C.SPARSE] + [
    DenseFeat(f, 1) for f in C.DENSE
]
columns += [
    VarLenSparseFeat(SparseFeat(m, vocab_sizes[m], embedding_dim=C.EMBED_DIM), maxlen=args.max_len, combiner="mean")
    for m in padded
]
model_input = {name: data[name] for name in get_feature_names(columns) if name not in padded}
model_input.update(padded)
labels = data["label"].values
model = DeepFM(columns, columns, dnn_hidden_units=C.HIDDEN, task="binary", device="cpu")
model.compile(torch.optim.Adam(model.parameters(), lr=C.LR), "binary_crossentropy")


def first_rows(n: int) -> tuple[dict, np.ndarray]:
    """The model inputs and labels of the file's first ``n`` rows."""
    return {name: values[:n] for name, values in model_input.items()}, labels[:n]


C.pin_threads()
if args.warmup_batches > 0:
    model.fit(*first_rows(args.warmup_batches * C.BATCH), batch_size=C.BATCH, epochs=1, verbose=0)
train_input, train_labels = first_rows(args.train_rows or len(data))
t0 = time.perf_counter()
model.fit(train_input, train_labels, batch_size=C.BATCH, epochs=1, verbose=0)
train_s = time.perf_counter() - t0
name = "deepfm" + ("" if args.without_multi else "+multi")
C.report(out, args.json, "deepctr-torch", deepctr_torch.__version__, name, len(train_labels), preprocess_s, train_s)
