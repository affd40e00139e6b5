"""Where one fp32 training step of a model goes: torch.profiler over 30 steps of the plain
loop (same model, optimizer and batches as the throughput benchmark's entries).

    python bench/throughput/step_profile.py --data /root/bench_data/rows1000000/train.tsv \
        --cache-dir /root/bench_data/cache --model deepfm
"""

from __future__ import annotations

import argparse
import os

import torch
from litctr_entry import BATCH, build_model, datamodule
from torch.profiler import ProfilerActivity, profile

from lit_ctr.data.batching import BatchIndexSampler, EncodedSplit


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--model", choices=["deepfm", "nfm", "fm"], default="deepfm")
    p.add_argument("--steps", type=int, default=30)
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    dm = datamodule(args.data, args.cache_dir)
    dm.prepare_data()
    dm.setup("fit")
    model = build_model(args.model, dm, sparse=False)
    model.train()
    optimizer = model.configure_optimizers()
    split = EncodedSplit(dm.splits["train"])
    sampler = iter(BatchIndexSampler(len(split), BATCH, shuffle=True, seed=0))
    batches = [split[next(sampler)] for _ in range(10 + args.steps)]

    def step(batch: dict[str, torch.Tensor]) -> None:
        logits = model(batch["ids"], batch["numeric"])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, batch["label"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for batch in batches[:10]:  # warm-up
        step(batch)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for batch in batches[10:]:
            step(batch)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
