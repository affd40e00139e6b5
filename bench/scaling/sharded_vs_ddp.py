"""Two gloo processes on CPU train DeepFM on Criteo-shaped batches, once with the tables
sharded by torchrec (``embedding: sharded`` + lit-ctr's sharding, table-wise) and once with
dense tables under DDP; both with Adagrad (fused for the sharded tables), the same seed,
initial weights and batches. Per rank: peak RSS (``ru_maxrss``) and the RSS the model
setup added; for the run: samples/s over the timed steps and the loss of every step.

The 26 categorical fields have Criteo Kaggle's cardinalities, each capped at ``--cap_rows``
(5.6 M rows in all at the default 1 M); 13 numeric fields. Ids are drawn uniformly.

    python bench/scaling/sharded_vs_ddp.py --out bench/scaling/results.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

CRITEO_KAGGLE = [1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194, 27, 14992,
                 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572]  # fmt: skip


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batches(args: argparse.Namespace, field_dims: list[int], rank: int) -> list[tuple]:
    generator = torch.Generator().manual_seed(5)
    offsets = torch.tensor([0, *field_dims[:-1]]).cumsum(0)
    out = []
    for _ in range(args.warmup + args.steps):
        ids = torch.stack([torch.randint(0, d, (2 * args.batch,), generator=generator) for d in field_dims], 1)
        numeric = torch.randn(2 * args.batch, 13, generator=generator)
        labels = (torch.rand(2 * args.batch, generator=generator) < 0.25).float()
        part = slice(rank * args.batch, (rank + 1) * args.batch)
        out.append(((ids + offsets)[part], numeric[part], labels[part]))
    return out


def run(rank: int, args: argparse.Namespace, results: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(args.port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    from lit_ctr.models import DeepFM

    field_dims = [min(d, args.cap_rows) for d in CRITEO_KAGGLE]
    data = batches(args, field_dims, rank)
    before = rss_mib()
    torch.manual_seed(0)
    model = DeepFM(field_dims, 13, embed_dim=args.dim, hidden_units=[400, 400, 400], embedding=args.mode)
    if args.mode == "sharded":
        from fbgemm_gpu.split_embedding_configs import EmbOptimType

        from lit_ctr.sharding.plan import shard_model

        fused = {"optimizer": EmbOptimType.EXACT_ADAGRAD, "learning_rate": args.lr, "eps": 1e-8}
        wrapped, _ = shard_model(model, torch.device("cpu"), 2, args.budget_mb, ["table_wise"], fused)
        params = [p for name, p in model.named_parameters() if ".collection." not in name]
    else:
        wrapped = torch.nn.parallel.DistributedDataParallel(model)
        params = list(model.parameters())
    optimizer = torch.optim.Adagrad(params, lr=args.lr, eps=1e-8)
    losses, start = [], 0.0
    for step, (ids, numeric, labels) in enumerate(data):
        if step == args.warmup:
            dist.barrier()
            start = time.perf_counter()
        loss = F.binary_cross_entropy_with_logits(wrapped(ids, numeric), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    dist.barrier()
    seconds = time.perf_counter() - start
    results[rank] = {
        "rows": sum(field_dims),
        "model_rss_mib": rss_mib() - before,
        "peak_rss_mib": peak_rss_mib(),
        "samples_per_s": 2 * args.batch * args.steps / seconds,
        "losses": losses,
    }
    dist.destroy_process_group()


def measure(args: argparse.Namespace) -> list[dict]:
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(run, args=(args, results), nprocs=2)
        return [results[0], results[1]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["sharded", "dense", "both"], default="both")
    parser.add_argument("--cap_rows", type=int, default=1_000_000, help="rows per field at most")
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--batch", type=int, default=4096, help="rows per rank and step")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--budget_mb", type=float, default=1024, help="the sharded run's per-rank table budget")
    parser.add_argument("--port", type=int, default=29671)
    parser.add_argument("--out", help="write the markdown table here (and the raw numbers beside it as .json)")
    args = parser.parse_args()
    modes = ["sharded", "dense"] if args.mode == "both" else [args.mode]
    raw = {}
    for mode in modes:
        raw[mode] = measure(argparse.Namespace(**{**vars(args), "mode": mode}))
        args.port += 1
    load = os.getloadavg()
    lines = [
        f"`{' '.join([os.path.basename(sys.executable), *sys.argv])}`: DeepFM (k={args.dim}, MLP 400-400-400), "
        f"{raw[modes[0]][0]['rows']:,} table rows, 2 gloo processes x 1 thread, batch {args.batch}/rank, "
        f"{args.steps} timed steps after {args.warmup}; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"(1/5/15 min) on {os.cpu_count()} cores.",
        "",
        "| run | rank | RSS added by the model (MiB) | peak RSS (MiB) | samples/s (both ranks) | loss, step 1 | loss, last step |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in modes:
        for rank, result in enumerate(raw[mode]):
            lines.append(
                f"| {'sharded (table-wise)' if mode == 'sharded' else 'DDP (dense tables)'} | {rank} | "
                f"{result['model_rss_mib']:.0f} | {result['peak_rss_mib']:.0f} | {result['samples_per_s']:.0f} | "
                f"{result['losses'][0]:.6f} | {result['losses'][-1]:.6f} |"
            )
    if len(modes) == 2:
        gap = max(abs(a - b) for a, b in zip(raw["sharded"][0]["losses"], raw["dense"][0]["losses"]))
        lines += ["", f"Largest loss difference over all {args.warmup + args.steps} steps (rank 0): {gap:.2e}"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text)
        with open(os.path.splitext(args.out)[0] + ".json", "w") as out:
            json.dump(raw, out)


if __name__ == "__main__":
    main()
