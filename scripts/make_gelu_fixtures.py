#!/usr/bin/env python3
"""Generates Tests/BackboneTests/Fixtures/gelu.safetensors: PyTorch's float32 GELU (erf form,
`torch.nn.functional.gelu`) on the CPU, for the packed GEMM's GELU epilogue
(Sources/CPackedGEMM: dp_gelu_erf). Not run by CI; rerun by hand from the repository root:

    PY=$(bash scripts/reference-python) && $PY scripts/make_gelu_fixtures.py

PyTorch 2.x hands float32 GELU to oneDNN, whose arithmetic depends on the CPU: on AVX-512 CPUs a
piecewise minimax polynomial, elsewhere an Abramowitz-Stegun formula with exp. dp_gelu_erf
follows the AVX-512 one, so generate this on an AVX-512 machine (the script refuses otherwise).

Tensor names:
    input  F32 [N]  special values (zeros, infinities, NaN, subnormals, the largest floats, both
                    sides of every polynomial's interval edge and of the 5.54 bound), random bit
                    patterns, normal samples of scale 3 and a grid over [-8, 8]
    gelu   F32 [N]  torch.nn.functional.gelu(input)
`__metadata__` records the torch version, its CPU capability and oneDNN's version.
"""
import os
import re

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "BackboneTests", "Fixtures", "gelu.safetensors")


def special_values():
    bits = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x00000001, 0x80000001,
            0x007FFFFF, 0x807FFFFF, 0x00800000, 0x80800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x40B15CEE, 0xC0B15CEE]
    # Each polynomial covers |x| whose bits + 0xc21fffff share bits 21 and up: the edges are the
    # bit patterns k << 21 - 0xc21fffff; take the two floats on each side of every edge.
    for k in range(0, 40):
        edge = ((k << 21) - 0xC21FFFFF) & 0xFFFFFFFF
        for d in (-2, -1, 0, 1):
            b = (edge + d) & 0x7FFFFFFF
            bits += [b, b | 0x80000000]
    for b in (0x40B15CED, 0x40B15CEF):
        bits += [b, b | 0x80000000]
    return np.array(bits, dtype=np.uint32).view(np.float32)


def main():
    capability = torch.backends.cpu.get_cpu_capability()
    if "AVX512" not in capability:
        raise SystemExit(f"torch reports CPU capability {capability}; run this on an AVX-512 machine")
    rng = np.random.default_rng(20261129)
    parts = [
        special_values(),
        rng.integers(0, 2**32, 8192, dtype=np.uint64).astype(np.uint32).view(np.float32),
        (rng.standard_normal(8192) * 3).astype(np.float32),
        np.linspace(-8, 8, 16384, dtype=np.float32),
    ]
    x = np.concatenate(parts)
    torch.set_num_threads(1)
    y = F.gelu(torch.from_numpy(x.copy())).numpy()
    found = re.search(r"MKL-DNN (v[0-9.]+)", torch.__config__.show())
    oneDNN = found.group(1) if found else "unknown"
    metadata = {"torch": torch.__version__, "cpu_capability": capability, "onednn": str(oneDNN)}
    save_file({"input": torch.from_numpy(x), "gelu": torch.from_numpy(y)}, OUT, metadata=metadata)
    print(f"wrote {OUT}: {len(x)} values, {metadata}")


if __name__ == "__main__":
    main()
