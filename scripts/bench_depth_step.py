#!/usr/bin/env python3
"""PyTorch doing what `dinoprobe bench depth-step` times: one training step of Meta's linear
depth probe at NYU scale (batch 16, 26x34 patches of the 416x544 crop, D=384, 256 bins, 416x544
labels, 10% of them without depth): LinearHead (BatchNorm2d -> 1x1 conv) -> FeaturesToDepth
(linear bins, linear norm) -> F.interpolate(bilinear, align_corners=False) -> SigLoss (past its
warm-up) -> backward -> clip_grad_norm_(35) -> AdamW(3e-4, (0.9, 0.99), 1e-4) -> WarmupOneCycleLR
step, fp32 on the CPU. The modules are scripts/make_depth_fixtures.py's copies of Meta's.
Warm-up excluded; prints JSON with the best and median of the repeats (wall and CPU time).
    $(bash scripts/reference-python) scripts/bench_depth_step.py --threads 2"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_depth_fixtures import LinearHead, SigLoss, WarmupOneCycleLR, features_to_depth  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    b, h, w, d, k, H, W = 16, 26, 34, 384, 256, 416, 544
    g = torch.Generator().manual_seed(3)
    x = torch.randn(b, d, h, w, generator=g)
    gt = 0.5 + 9 * torch.rand(b, 1, H, W, generator=g)
    gt[torch.rand(b, 1, H, W, generator=g) < 0.1] = 0
    head = LinearHead(d, k)
    head.train()
    opt = torch.optim.AdamW([{"params": head.parameters(), "lr": 3e-4, "betas": (0.9, 0.99), "weight_decay": 1e-4}])
    scheduler = WarmupOneCycleLR(opt, total_steps=38400, warmup_iters=12800, max_lr=3e-4)
    loss = SigLoss()
    loss.warm_up_counter = 100
    times, cpu = [], []
    for i in range(a.repeats + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        pred = F.interpolate(features_to_depth(head(x), "linear", "linear"), size=(H, W), mode="bilinear", align_corners=False)
        value = loss(pred, gt, gt != 0)
        value.backward()
        torch.nn.utils.clip_grad_norm_(list(head.parameters()), 35)
        opt.step()
        scheduler.step()
        if i > 0:
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    times.sort()
    cpu.sort()
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "depth_step_best_seconds": times[0],
                      "depth_step_seconds": times[len(times) // 2], "depth_step_cpu_seconds": cpu[len(cpu) // 2], "times": times}))


if __name__ == "__main__":
    main()
