"""DeepCTR-Torch 0.3.0 throughput entry: pandas/sklearn preprocessing, then one epoch of fit().

DeepCTR-Torch has no FM model class, so "fm" is DeepFM with dnn_hidden_units=() (linear + FM part).

Issue 15's models (afm, xdeepfm, autoint, dcn_v2, fibinet) get lit-ctr's frappe network settings
(``FRAPPE_KWARGS``) and no penalties; their 13 numeric columns are label-encoded into sparse
fields too, so that the interaction sees 39 fields as lit-ctr's does (lit-ctr embeds each
numeric field as a vector; DeepCTR only feeds dense values to the linear and DNN parts).
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
from deepctr_torch.models import AFM, DCN, NFM, AutoInt, DeepFM, FiBiNET, xDeepFM  # noqa: E402
from sklearn.preprocessing import LabelEncoder, MinMaxScaler  # noqa: E402

# --- preprocess (timed): read TSV, fill NA, LabelEncoder per sparse column, MinMaxScaler on dense
t0 = time.perf_counter()
data = pd.read_csv(args.data, sep="\t", header=None, names=C.COLUMNS)
data[C.SPARSE] = data[C.SPARSE].fillna("-1")
data[C.DENSE] = data[C.DENSE].fillna(0)
frappe = args.model in C.FRAPPE_MODELS
for feat in C.SPARSE + (C.DENSE if frappe else []):
    data[feat] = LabelEncoder().fit_transform(data[feat])
if not frappe:
    data[C.DENSE] = MinMaxScaler(feature_range=(0, 1)).fit_transform(data[C.DENSE])
preprocess_s = time.perf_counter() - t0

# --- model (not timed)
columns = [SparseFeat(f, data[f].max() + 1, embedding_dim=C.EMBED_DIM) for f in C.SPARSE] + [
    DenseFeat(f, 1) for f in C.DENSE
]
# lit-ctr's configs/frappe/<model>.yaml network settings in DeepCTR's terms, penalties off
# (DeepCTR's l2_reg_* default to 1e-5; lit-ctr's entries have none).
NO_L2 = {"l2_reg_linear": 0.0, "l2_reg_embedding": 0.0}
DEEP = {"dnn_hidden_units": C.HIDDEN, "dnn_use_bn": True, "dnn_dropout": 0.5, "l2_reg_dnn": 0.0}
FRAPPE_KWARGS = {
    "afm": (AFM, {"attention_factor": 32, "afm_dropout": 0.2, "l2_reg_att": 0.0, **NO_L2}),
    "xdeepfm": (xDeepFM, {"cin_layer_size": (64, 64), "cin_split_half": True, "l2_reg_cin": 0.0, **DEEP, **NO_L2}),
    # DeepCTR's AutoInt has no linear-part L2 option (it sets 0); its heads are embedding/heads = 5
    # wide, not settable: lit-ctr's entry uses the same (litctr_entry.SAME_WORK).
    "autoint": (AutoInt, {"att_layer_num": 3, "att_head_num": 2, "att_res": True, "l2_reg_embedding": 0.0, **DEEP}),
    # lit-ctr's dcn_v2.yaml: 3 full-rank cross layers beside the MLP = DCN with matrix crosses.
    "dcn_v2": (DCN, {"cross_num": 3, "cross_parameterization": "matrix", "l2_reg_cross": 0.0, **DEEP, **NO_L2}),
    # FiBiNET takes no dnn_use_bn (lit-ctr's fibinet.yaml has batch_norm false).
    "fibinet": (FiBiNET, {"bilinear_type": "interaction", "reduction_ratio": 3, "dnn_hidden_units": C.HIDDEN,
                          "dnn_dropout": 0.5, "l2_reg_dnn": 0.0, **NO_L2}),
}  # fmt: skip
if frappe:
    columns = [SparseFeat(f, data[f].max() + 1, embedding_dim=C.EMBED_DIM) for f in C.DENSE + C.SPARSE]
model_input = {name: data[name] for name in get_feature_names(columns)}
labels = data["label"].values
if frappe:
    cls, kwargs = FRAPPE_KWARGS[args.model]
    model = cls(columns, columns, task="binary", device="cpu", **kwargs)
elif args.model == "nfm":
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
