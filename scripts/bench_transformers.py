#!/usr/bin/env python3
"""The reference side of scripts/bench: Hugging Face transformers' forward (DINOv3ViTModel or
DINOv3ConvNextModel, whichever the checkpoint's config names) on the same checkpoint and thread
count, in inference mode.

It runs as a server so that `dinoprobe bench backbone --reference-python` can interleave the two
timings (one dinoprobe forward, then one here, and so on) and pair them. Protocol, one line each
way on stdin/stdout: first this side says {"ready": true, "torch": ..., "model": ...}; then for
each line "B" or "B S" (a batch size, and an input size, 224 when absent) it runs one forward on a
batch of B images of S x S pixels and answers
{"seconds": s}; an empty line or end of input ends it. Everything else this process or its
libraries print goes to stderr."""
import argparse
import json
import os
import sys
import time

import torch
from transformers import AutoModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    # The protocol owns the real stdout; stray prints (warnings, progress) go to stderr.
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    torch.set_num_threads(args.threads)
    model = AutoModel.from_pretrained(args.model, dtype=torch.float32).eval()
    reply.write(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
                            "model": type(model).__name__,
                            "attn_implementation": model.config._attn_implementation}) + "\n")
    inputs = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            break
        fields = [int(f) for f in line.split()]
        batch, size = fields[0], fields[1] if len(fields) > 1 else 224
        if not 1 <= batch <= 1024 or not 16 <= size <= 4096:
            raise SystemExit(f"bench_transformers: batch size {batch} or input size {size} out of range")
        x = inputs.setdefault((batch, size), torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(0)))
        with torch.inference_mode():
            start = time.perf_counter()
            model(pixel_values=x)
            seconds = time.perf_counter() - start
        reply.write(json.dumps({"seconds": seconds}) + "\n")


if __name__ == "__main__":
    main()
