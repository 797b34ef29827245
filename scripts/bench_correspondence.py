"""The PyTorch reference of `dinoprobe bench correspondence` on the same sizes: for the keypoints
of a pair together, the cosine of each source feature with every target patch (Probe3D's einsum),
upsampled bilinearly to the target's pixel square and cut to the image, argmax. Prints
milliseconds per keypoint.

    PY=$(bash scripts/reference-python) && $PY scripts/bench_correspondence.py --threads 2
"""
import argparse
import time

import torch
import torch.nn.functional as F


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--grid", type=int, default=50)
    p.add_argument("--dim", type=int, default=1024)
    p.add_argument("--image", default="500,375")
    p.add_argument("--keypoints", type=int, default=200)
    p.add_argument("--per-pair", type=int, default=10)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    w, h = map(int, a.image.split(","))
    side = max(w, h)
    g = torch.Generator().manual_seed(30)
    source = F.normalize(torch.rand(a.grid, a.grid, a.dim, generator=g) * 2 - 1, dim=-1)
    target = F.normalize(torch.rand(a.grid, a.grid, a.dim, generator=g) * 2 - 1, dim=-1)
    xs, ys = torch.randint(0, w, (a.keypoints,), generator=g), torch.randint(0, h, (a.keypoints,), generator=g)
    start = time.perf_counter()
    for first in range(0, a.keypoints, a.per_pair):  # a pair's keypoints together, as Probe3D does
        x, y = xs[first:first + a.per_pair].double(), ys[first:first + a.per_pair].double()
        points = torch.stack([2 * (x + 0.5) / side - 1, 2 * (y + 0.5) / side - 1], dim=-1).float()[None, None]
        vectors = F.normalize(F.grid_sample(source.permute(2, 0, 1)[None], points, align_corners=False, padding_mode="border")[0, :, 0].t(), dim=1)
        heat = torch.einsum("kd,hwd->khw", vectors, target)
        up = F.interpolate(heat[None], size=(side, side), mode="bilinear", align_corners=False)[0, :, :h, :w]
        up.flatten(1).argmax(dim=1).tolist()
    ms = (time.perf_counter() - start) * 1000 / a.keypoints
    print(f"reference matching: {ms:.3f} ms per keypoint (grid {a.grid}x{a.grid}, dim {a.dim}, target {w}x{h}, {a.keypoints} keypoints, {a.per_pair} per pair, {a.threads} threads)")


if __name__ == "__main__":
    main()
