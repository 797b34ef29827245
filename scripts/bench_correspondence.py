"""The PyTorch reference of `dinoprobe bench correspondence` on the same sizes: per keypoint, the
cosine of a source feature with every target patch (Probe3D's einsum), upsampled bilinearly to
the target's pixel square and cut to the image, argmax. Prints milliseconds per keypoint.

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
    for x, y in zip(xs.tolist(), ys.tolist()):
        point = torch.tensor([[[[2 * (x + 0.5) / side - 1, 2 * (y + 0.5) / side - 1]]]])
        vector = F.normalize(F.grid_sample(source.permute(2, 0, 1)[None], point, align_corners=False, padding_mode="border")[0, :, 0, 0], dim=0)
        heat = torch.einsum("d,hwd->hw", vector, target)
        up = F.interpolate(heat[None, None], size=(side, side), mode="bilinear", align_corners=False)[0, 0, :h, :w]
        int(torch.argmax(up))
    ms = (time.perf_counter() - start) * 1000 / a.keypoints
    print(f"reference matching: {ms:.3f} ms per keypoint (grid {a.grid}x{a.grid}, dim {a.dim}, target {w}x{h}, {a.keypoints} keypoints, {a.threads} threads)")


if __name__ == "__main__":
    main()
