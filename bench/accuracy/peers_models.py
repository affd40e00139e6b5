"""DeepCTR-Torch 0.3.0 on frappe-86k with lit-ctr's frappe settings: AFM, xDeepFM, AutoInt+,
DCN-V2 (full-rank, as DeepCTR's ``DCN(cross_parameterization="matrix")``) and FiBiNET.

Run with the peer venv's python (bench/throughput/peers/setup_env.sh), never lit-ctr's:

    nice -n 19 bench/.venv-peers/bin/python bench/accuracy/peers_models.py --seeds 0
    nice -n 19 bench/.venv-peers/bin/python bench/accuracy/peers_models.py --seeds 1 2
    bench/.venv-peers/bin/python bench/accuracy/peers_models.py --table   # markdown, ours beside

The split is lit-ctr's (../shared/data/frappe/{train,valid,test}.csv); each field's vocabulary
is counted on the train split, as lit-ctr's is, and a value first seen in valid/test gets the
out-of-vocabulary id 0. Training is DeepCTR-Torch's own ``model.fit`` one epoch at a time
(shuffled, batch 4096), then its ``model.predict`` on the validation split; early stopping on
validation AUC with the patience of our config; the test AUC is that of the weights of the
best-validation-AUC epoch. One result file per run in bench/accuracy/results_peers/.

Our settings in DeepCTR's terms (``SETTINGS`` below; ``notes`` say what differs):
DeepCTR's ``fit`` minimises the *summed* log loss of a batch plus its ``l2_reg_*`` penalties,
where lit-ctr minimises the *mean*. Adam is invariant to the loss's scale, so Adam's coupled
``weight_decay=w`` on a mean loss is ``weight_decay=w·4096`` on DeepCTR's sum (exact except
for the last, smaller batch of an epoch), and a penalty ``c·‖W‖²`` added to our mean is
``l2_reg=c·4096`` added to DeepCTR's sum.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "frappe"
RESULTS = REPO / "bench" / "accuracy" / "results_peers"
OURS = REPO / "bench" / "accuracy" / "results"
FIELDS = ["user", "item", "daytime", "weekday", "isweekend", "homework", "cost", "weather", "country", "city"]
BATCH = 4096
EMBED_DIM = 10
MAX_EPOCHS = 100
DEEP = (400, 400, 400)
MODELS = ["afm", "xdeepfm", "autoint", "dcn_v2", "fibinet"]

# Per model: the DeepCTR class, its keyword arguments, Adam's lr and (mean-loss) weight decay,
# early-stopping patience; all from configs/frappe/<model>.yaml. "embedding_l2" is our
# per-looked-up-row L2 (AFM only), turned into DeepCTR's whole-table one in build_model.
SETTINGS = {
    "afm": {
        "class": "AFM",
        "kwargs": {"attention_factor": 32, "afm_dropout": 0.2, "l2_reg_att": 0.1 * BATCH},
        "embedding_l2": 1e-3,
        "lr": 0.01,
        "weight_decay": 0.0,
        "patience": 2,  # lit-ctr's default: afm.yaml sets none
        "notes": [
            "embedding L2: ours is 1e-3·Σ‖rows a batch looked up‖²/batch; DeepCTR's l2_reg_embedding "
            "(and l2_reg_linear) is over the whole table every step: set to 1e-3·4096·F/V "
            "(V ids, F fields: the same total at equal row norms)",
            "attention projection p: ours starts at 1 (AFM starts as an FM); DeepCTR's at Xavier init",
            "embedding init: DeepCTR's normal(0, 1e-4)",
        ],
    },
    "xdeepfm": {
        "class": "xDeepFM",
        "kwargs": {
            "dnn_hidden_units": DEEP,
            "dnn_use_bn": True,
            "dnn_dropout": 0.5,
            "cin_layer_size": (64, 64),
            "cin_split_half": True,
            "l2_reg_linear": 0.0,
            "l2_reg_embedding": 0.0,
            "l2_reg_dnn": 0.0,
            "l2_reg_cin": 0.0,
        },  # fmt: skip
        "lr": 1e-3,
        "weight_decay": 0.01,
        "patience": 6,
        "notes": ["no weight averaging (ours: EMA of the weights, decay 0.95; DeepCTR has none)"],
    },
    "autoint": {
        "class": "AutoInt",
        "kwargs": {
            "att_layer_num": 3,
            "att_head_num": 2,
            "att_res": True,
            "dnn_hidden_units": DEEP,
            "dnn_use_bn": True,
            "dnn_dropout": 0.5,
            "l2_reg_embedding": 0.0,
            "l2_reg_dnn": 0.0,
        },  # fmt: skip
        "lr": 1e-3,
        "weight_decay": 0.01,
        "patience": 6,
        "notes": [
            "no weight averaging (ours: EMA, decay 0.95)",
            "attention size per head: DeepCTR's is embedding/heads = 5 (not settable); ours 32",
        ],
    },
    "dcn_v2": {
        "class": "DCN",
        "kwargs": {
            "cross_num": 3,
            "cross_parameterization": "matrix",
            "dnn_hidden_units": DEEP,
            "dnn_use_bn": True,
            "dnn_dropout": 0.5,
            "l2_reg_linear": 0.0,
            "l2_reg_embedding": 0.0,
            "l2_reg_cross": 0.0,
            "l2_reg_dnn": 0.0,
        },  # fmt: skip
        "lr": 1e-3,
        "weight_decay": 0.01,
        "patience": 6,
        "notes": [
            "our dcn_v2.yaml is full-rank (low_rank null, 1 expert, parallel): DeepCTR's "
            "DCN(cross_parameterization='matrix'), its DCN-M full-rank cross, not DCNMix (low-rank experts)",
            "no weight averaging (ours: EMA, decay 0.95)",
        ],
    },
    "fibinet": {
        "class": "FiBiNET",
        "kwargs": {
            "bilinear_type": "interaction",
            "reduction_ratio": 3,
            "dnn_hidden_units": DEEP,
            "dnn_dropout": 0.5,
            "l2_reg_linear": 0.0,
            "l2_reg_embedding": 0.0,
            "l2_reg_dnn": 0.0,
        },  # fmt: skip
        "lr": 3e-3,
        "weight_decay": 1e-4,
        "patience": 6,
        "notes": [
            "SENET excitation: DeepCTR's is ReLU (not settable); ours sigmoid (fibinet.yaml says why)",
        ],
    },
}


def load_splits() -> tuple[dict[str, pd.DataFrame], list[int]]:
    """The three splits as integer ids per field (vocabulary from train, unseen -> 0), and
    each field's vocabulary size including the out-of-vocabulary id."""
    frames = {s: pd.read_csv(DATA / f"{s}.csv", dtype=str) for s in ("train", "valid", "test")}
    sizes = []
    for field in FIELDS:
        values = sorted(frames["train"][field].unique())
        codes = {v: i + 1 for i, v in enumerate(values)}
        for frame in frames.values():
            frame[field] = frame[field].map(codes).fillna(0).astype("int64")
        sizes.append(len(values) + 1)
    for frame in frames.values():
        frame["label"] = frame["label"].astype("float32")
    return frames, sizes


def build_model(name: str, sizes: list[int], seed: int):
    import deepctr_torch.models as zoo
    from deepctr_torch.inputs import SparseFeat

    setting = SETTINGS[name]
    columns = [SparseFeat(f, n, embedding_dim=EMBED_DIM) for f, n in zip(FIELDS, sizes)]
    torch.manual_seed(seed)
    kwargs = model_kwargs(name, sizes)
    model = getattr(zoo, setting["class"])(columns, columns, seed=seed, task="binary", device="cpu", **kwargs)
    # Adam's coupled decay on the summed loss: ours (mean loss) times the batch size.
    optimizer = torch.optim.Adam(model.parameters(), lr=setting["lr"], weight_decay=setting["weight_decay"] * BATCH)
    model.compile(optimizer, "binary_crossentropy")
    return model


def scores(model, frame: pd.DataFrame) -> tuple[float, float]:
    from sklearn.metrics import log_loss, roc_auc_score

    predicted = model.predict({f: frame[f] for f in FIELDS}, batch_size=BATCH).reshape(-1)
    labels = frame["label"].to_numpy()
    return float(roc_auc_score(labels, predicted)), float(log_loss(labels, np.clip(predicted, 1e-7, 1 - 1e-7)))


def run_one(name: str, seed: int, frames: dict[str, pd.DataFrame], sizes: list[int]) -> dict:
    import deepctr_torch

    np.random.seed(seed)
    model = build_model(name, sizes, seed)
    train = frames["train"]
    x = {f: train[f] for f in FIELDS}
    y = train["label"].to_numpy()
    patience = SETTINGS[name]["patience"]
    best_auc, best_epoch, best_state, history = -1.0, 0, None, []
    start = time.perf_counter()
    epoch = 0
    for epoch in range(1, MAX_EPOCHS + 1):
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
        val_auc, val_logloss = scores(model, frames["valid"])
        history.append({"epoch": epoch, "val_auc": val_auc, "val_logloss": val_logloss})
        print(f"{name} seed {seed} epoch {epoch}: val AUC {val_auc:.4f} logloss {val_logloss:.4f}", file=sys.stderr)
        if val_auc > best_auc:
            best_auc, best_epoch, best_state = val_auc, epoch, copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= patience:
            break
    seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    test_auc, test_logloss = scores(model, frames["test"])
    return {
        "library": "deepctr-torch",
        "version": deepctr_torch.__version__,
        "model": name,
        "deepctr_class": SETTINGS[name]["class"],
        "deepctr_kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in model_kwargs(name, sizes).items()},
        "seed": seed,
        "lr": SETTINGS[name]["lr"],
        "adam_weight_decay": SETTINGS[name]["weight_decay"] * BATCH,
        "patience": patience,
        "val_auc": best_auc,
        "test_auc": test_auc,
        "test_logloss": test_logloss,
        "epochs": epoch,
        "best_epoch": best_epoch,
        "seconds_per_epoch": seconds / epoch,
        "history": history,
        "notes": SETTINGS[name]["notes"],
        "command": "bench/.venv-peers/bin/python " + shlex.join(["bench/accuracy/peers_models.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)",
        "load_average": os.getloadavg()[0],
    }


def model_kwargs(name: str, sizes: list[int]) -> dict:
    """DeepCTR's keyword arguments for ``name``: AFM's per-row embedding L2 as a whole-table one."""
    kwargs = dict(SETTINGS[name]["kwargs"])
    if "embedding_l2" in SETTINGS[name]:
        whole_table = SETTINGS[name]["embedding_l2"] * BATCH * len(FIELDS) / sum(sizes)
        kwargs.update(l2_reg_embedding=whole_table, l2_reg_linear=whole_table)
    return kwargs


def mean_std(values: list[float]) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.4f} ± {statistics.stdev(values):.4f}" if len(values) > 1 else f"{mean:.4f}"


def table() -> str:
    """Markdown: per model, our 3-seed test AUC (bench/accuracy/results/) beside DeepCTR's."""
    rows = [
        "| model | lit-ctr test AUC | seeds | DeepCTR-Torch 0.3.0 test AUC | seeds | difference | lit-ctr epochs (best) | DeepCTR epochs (best) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in MODELS:
        ours = [json.loads(p.read_text()) for p in sorted(OURS.glob(f"{name}-seed*.json"))]
        peers = [json.loads(p.read_text()) for p in sorted(RESULTS.glob(f"{name}-seed*.json"))]
        if not peers:
            continue
        a, b = [r["test_auc"] for r in ours], [r["test_auc"] for r in peers]
        epochs = [
            f"{statistics.fmean(r['epochs'] for r in rs):.0f} ({statistics.fmean(r['best_epoch'] for r in rs):.0f})"
            for rs in (ours, peers)
        ]
        rows.append(
            f"| {name} | {mean_std(a)} | {', '.join(str(r['seed']) for r in ours)} | {mean_std(b)} "
            f"| {', '.join(str(r['seed']) for r in peers)} | {statistics.fmean(a) - statistics.fmean(b):+.4f} "
            f"| {epochs[0]} | {epochs[1]} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=MODELS, choices=MODELS)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--table", action="store_true", help="print the side-by-side table and exit")
    args = parser.parse_args()
    if args.table:
        print(table())
        return
    torch.set_num_threads(1)
    frames, sizes = load_splits()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:  # seed 0 of every model first, then the next seed
        for name in args.models:
            target = RESULTS / f"{name}-seed{seed}.json"
            if target.exists():
                print(f"peers: {target.name} done, skipping", file=sys.stderr)
                continue
            result = run_one(name, seed, frames, sizes)
            target.write_text(json.dumps(result, indent=2) + "\n")
            print(f"peers: {target.name}: test AUC {result['test_auc']:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
