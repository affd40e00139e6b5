"""Every model at the Criteo shape: parameter counts, and training samples/s of a plain loop.

    python bench/throughput/models.py --sizes                 # parameter counts (no training)
    python bench/throughput/models.py --speed --steps 20      # samples/s, fp32 and bf16-mixed

Each model is built with the hyper-parameters of its frappe config (configs/frappe/<name>.yaml,
``init_args`` except the optimizer) on the Criteo Kaggle shape: 13 numeric fields and the 26
categorical fields' Kaggle cardinalities (``--max-ids`` caps each field, as the 1M-row
throughput set does). ``--speed`` times ``--steps`` training steps (the model's training
objective with its penalties, backward, the fused Adam ``configure_optimizers`` gives) on
random ids of batch 4096 after two warm-up steps, in one process, the models one after
another: the figures compare models measured side by side, not machines.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
import yaml

from lit_ctr import models
from lit_ctr.synthetic.generator import _CRITEO_CARDINALITIES

REPO = Path(__file__).resolve().parents[2]
NUM_NUMERIC = 13
BATCH = 4096


def frappe_args(stem: str) -> tuple[type, dict]:
    """The model class and its hyper-parameters in configs/frappe/<stem>.yaml."""
    model = yaml.safe_load((REPO / "configs" / "frappe" / f"{stem}.yaml").read_text())["model"]
    args = {k: v for k, v in model.get("init_args", {}).items() if k != "optimizer"}
    return getattr(models, model["class_path"]), args


def build(stem: str, field_dims: list[int]) -> models.CTRModule:
    cls, args = frappe_args(stem)
    return cls(field_dims, NUM_NUMERIC, **args)


def sizes(model: models.CTRModule) -> tuple[int, int]:
    """All parameters, and those outside the embedding tables (rows of ``sum(field_dims)``)."""
    total = sum(p.numel() for p in model.parameters())
    rows = sum(model.field_dims)
    tables = sum(p.numel() for p in model.parameters() if p.dim() == 2 and p.shape[0] == rows)
    return total, total - tables


def samples_per_second(model: models.CTRModule, field_dims: list[int], steps: int, bf16: bool) -> float:
    """Training samples/s of lit-ctr's own step: the model's ``training_objective`` (loss and
    penalties) and the optimizer ``configure_optimizers`` gives (fused Adam), as the Trainer runs
    them, without the Trainer."""
    generator = torch.Generator().manual_seed(0)
    offsets = torch.tensor([0, *field_dims[:-1]]).cumsum(0)
    ids = (torch.rand(BATCH, len(field_dims), generator=generator) * torch.tensor(field_dims)).long() + offsets
    batch = {
        "ids": ids,
        "numeric": torch.rand(BATCH, NUM_NUMERIC, generator=generator),
        "label": (torch.rand(BATCH, generator=generator) < 0.25).float(),
    }
    model.train()
    model.configure_model()
    optimizer = model.configure_optimizers()

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            objective = model.training_objective(batch)[1]
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        optimizer.step()

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="config stems in configs/frappe/ (default: all)")
    parser.add_argument("--sizes", action="store_true", help="parameter counts")
    parser.add_argument("--speed", action="store_true", help="training samples/s, fp32 and bf16-mixed")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--max-ids", type=int, default=None, help="cap on each field's ids (default: Kaggle's)")
    args = parser.parse_args()
    stems = args.models or sorted(p.stem for p in (REPO / "configs" / "frappe").glob("*.yaml"))
    field_dims = [min(c, args.max_ids) if args.max_ids else c for c in _CRITEO_CARDINALITIES]
    header = ["model"]
    if args.sizes:
        header += ["parameters", "outside the embedding tables"]
    if args.speed:
        header += ["samples/s fp32", "samples/s bf16-mixed"]
    print(f"Criteo shape: {NUM_NUMERIC} numeric + {len(field_dims)} categorical fields, {sum(field_dims):,} ids; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for stem in stems:
        torch.manual_seed(0)
        with torch.device("meta"):  # counted without allocating (FFM's Kaggle-size table is 21 GB)
            row = [type(build(stem, field_dims)).__name__]
            if args.sizes:
                total, network = sizes(build(stem, field_dims))
                row += [f"{total:,}", f"{network:,}"]
        if args.speed:
            model = build(stem, field_dims)
            row += [f"{samples_per_second(model, field_dims, args.steps, bf16):,.0f}" for bf16 in (False, True)]
        print("| " + " | ".join(row) + " |", flush=True)
    print(f"(load average at the end {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
