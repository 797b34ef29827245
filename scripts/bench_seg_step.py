#!/usr/bin/env python3
"""PyTorch doing what `dinoprobe bench seg-step` times: one training step of the linear
segmentation head at ADE20K scale (batch 16, 32x32 patches, D=384, 150 classes, 512x512 labels):
Dropout2d(0.1) -> BatchNorm2d -> 1x1 Conv2d -> F.interpolate(bilinear, align_corners=False) ->
cross_entropy(ignore_index=255) -> backward -> AdamW step, fp32 on the CPU. Warm-up excluded,
median of repeats (wall and CPU time of all threads). Prints JSON. Run with the reference environment:
    $(bash scripts/reference-python) scripts/bench_seg_step.py --threads 2"""
import argparse
import json
import time

import torch
import torch.nn.functional as F


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    b, grid, d, k, size = 16, 32, 384, 150, 512
    g = torch.Generator().manual_seed(3)
    x = torch.randn(b, d, grid, grid, generator=g)
    labels = torch.randint(0, k, (b, size, size), generator=g)
    head = torch.nn.Sequential(torch.nn.Dropout2d(0.1), torch.nn.BatchNorm2d(d), torch.nn.Conv2d(d, k, 1))
    torch.nn.init.normal_(head[2].weight, 0, 0.01)
    torch.nn.init.zeros_(head[2].bias)
    head.train()
    opt = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=1e-3)
    times, cpu = [], []
    for i in range(a.repeats + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        logits = F.interpolate(head(x), size=(size, size), mode="bilinear", align_corners=False)
        loss = F.cross_entropy(logits, labels, ignore_index=255)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i > 0:
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    times.sort()
    cpu.sort()
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "seg_step_seconds": times[len(times) // 2],
                      "seg_step_cpu_seconds": cpu[len(cpu) // 2], "times": times}))


if __name__ == "__main__":
    main()
