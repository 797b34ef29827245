#!/usr/bin/env python3
"""The PyTorch side of the linear-probe grid benchmark (scripts/bench --grid): Meta's protocol as
its eval code runs it, one nn.Linear per learning rate (13), one SGD optimizer with a parameter
group per head (momentum 0.9), cosine schedule, all heads on the same batches; 12,500 steps of
batch 128 on 9,469 x 768 features, 10 classes. Also the same grid as one stacked nn.Linear
(one GEMM), for reference. Prints JSON."""
import argparse
import json
import math
import time

import torch

LRS = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1]


def data(n, d, k):
    g = torch.Generator().manual_seed(7)
    centres = 0.3 * torch.randn(k, d, generator=g)
    labels = torch.arange(n) % k
    return centres[labels] + torch.randn(n, d, generator=g), labels


def meta_style(x, y, k, steps, batch):
    heads = torch.nn.ModuleList([torch.nn.Linear(x.shape[1], k) for _ in LRS])
    for h in heads:
        h.weight.data.normal_(0, 0.01)
        h.bias.data.zero_()
    opt = torch.optim.SGD([{"params": h.parameters(), "lr": lr * batch / 256} for h, lr in zip(heads, LRS)], momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=0)
    g = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (batch,), generator=g)
        xb, yb = x[idx], y[idx]
        loss = sum(torch.nn.functional.cross_entropy(h(xb), yb) for h in heads)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return time.perf_counter() - start


def stacked(x, y, k, steps, batch):
    g = len(LRS)
    layer = torch.nn.Linear(x.shape[1], g * k)
    layer.weight.data.normal_(0, 0.01)
    layer.bias.data.zero_()
    scale = torch.tensor([lr * batch / 256 for lr in LRS]).repeat_interleave(k)
    buf_w = torch.zeros_like(layer.weight)
    buf_b = torch.zeros_like(layer.bias)
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for t in range(steps):
        idx = torch.randint(0, x.shape[0], (batch,), generator=gen)
        xb, yb = x[idx], y[idx]
        z = layer(xb).view(batch, g, k)
        loss = torch.nn.functional.cross_entropy(z.reshape(batch * g, k), yb.repeat_interleave(g), reduction="sum") / batch
        layer.zero_grad()
        loss.backward()
        factor = 0.5 * (1 + math.cos(math.pi * t / steps))
        with torch.no_grad():
            buf_w.mul_(0.9).add_(layer.weight.grad)
            buf_b.mul_(0.9).add_(layer.bias.grad)
            layer.weight -= (scale * factor)[:, None] * buf_w
            layer.bias -= scale * factor * buf_b
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=12500)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x, y = data(9469, 768, 10)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "steps": args.steps,
           "meta_style_seconds": meta_style(x, y, 10, args.steps, 128),
           "stacked_seconds": stacked(x, y, 10, args.steps, 128)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
