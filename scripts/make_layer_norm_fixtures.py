#!/usr/bin/env python3
"""Generates Tests/BackboneTests/Fixtures/layer_norm.safetensors: PyTorch's float32 LayerNorm
(`torch.nn.functional.layer_norm` over the last dimension) on the CPU, for dp_layer_norm
(Sources/CPackedGEMM/layer_norm.c). Not run by CI; rerun by hand from the repository root:

    PY=$(bash scripts/reference-python) && $PY scripts/make_layer_norm_fixtures.py

PyTorch registers no AVX-512 LayerNorm kernel, so every x86 CPU with AVX2 runs the same one;
the script refuses a machine whose torch reports neither AVX2 nor AVX-512.

For each row length N (tensor names end in _N):
    x       F32 [rows, N]  a constant row, a zero row, rows holding an infinity, a NaN, values near
                           1e30, random finite bit patterns, and normal rows of random scale and
                           offset with an outlier channel (as trained ViTs have)
    gamma   F32 [N], beta F32 [N]
    affine  F32 [rows, N]  layer_norm(x, (N,), gamma, beta, eps=1e-6)
    plain   F32 [rows, N]  layer_norm(x, (N,), eps=1e-5)
The lengths cover rows shorter than one 8-lane vector, leftovers after whole vectors, one and
several chunks of 16 vectors, and cascades of more than one level.
`__metadata__` records the torch version and its CPU capability.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "BackboneTests", "Fixtures", "layer_norm.safetensors")
LENGTHS = [1, 7, 8, 20, 40, 64, 100, 384, 390, 768, 1024, 2053]


def rows(rng, n, count):
    x = rng.standard_normal((count, n)).astype(np.float32)
    x *= np.exp(rng.standard_normal((count, 1)) * 2).astype(np.float32)
    x += (rng.standard_normal((count, 1)) * np.exp(rng.standard_normal((count, 1)) * 2)).astype(np.float32)
    x[:, min(3, n - 1)] *= 40
    x[0] = 3.0
    x[1] = 0.0
    x[2, n // 2] = np.inf
    x[3, n // 3] = np.nan
    x[4] = rng.standard_normal(n).astype(np.float32) * np.float32(1e30)
    bits = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x[5] = np.where(np.isfinite(bits), bits, np.float32(1))
    return x


def main():
    capability = torch.backends.cpu.get_cpu_capability()
    if capability not in ("AVX2", "AVX512"):
        raise SystemExit(f"torch reports CPU capability {capability}; run this on an x86 machine with AVX2")
    rng = np.random.default_rng(20261130)
    torch.set_num_threads(1)
    tensors = {}
    for n in LENGTHS:
        x = torch.from_numpy(rows(rng, n, 12 if n < 1000 else 7))
        gamma = torch.from_numpy((rng.standard_normal(n) * 0.5 + 1).astype(np.float32))
        beta = torch.from_numpy((rng.standard_normal(n) * 0.2).astype(np.float32))
        tensors[f"x_{n}"] = x
        tensors[f"gamma_{n}"] = gamma
        tensors[f"beta_{n}"] = beta
        tensors[f"affine_{n}"] = F.layer_norm(x, (n,), gamma, beta, eps=1e-6)
        tensors[f"plain_{n}"] = F.layer_norm(x, (n,), eps=1e-5)
    metadata = {"torch": torch.__version__, "cpu_capability": capability, "lengths": ",".join(map(str, LENGTHS))}
    save_file(tensors, OUT, metadata=metadata)
    print(f"wrote {OUT}: {sum(t.numel() for t in tensors.values())} values, {metadata}")


if __name__ == "__main__":
    main()
