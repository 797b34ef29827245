"""The reference side of `dinoprobe bench propagation`: one DAVIS-sized frame of DINO's label
propagation in PyTorch on the CPU (30x52 patches, D 384, first frame + 7 previous, radius 12,
top 5, 4 labels), its upsampling/argmax/resize to 480x854, and davis2017-evaluation's J and F of
one object; the code is scripts/make_propagation_fixtures.py's faithful copies.

    PY=$(bash scripts/reference-python) && $PY scripts/bench_propagation.py --threads 2
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_propagation_fixtures as ref  # noqa: E402


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2], out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=5)
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    h, w, dim, classes = 30, 52, 384, 4
    args = {"n_last_frames": 7, "size_mask_neighborhood": 12, "topk": 5}
    g = torch.Generator().manual_seed(4)
    feats = [torch.randn(h * w, dim, generator=g).T for _ in range(8)]
    segs = [torch.softmax(torch.randn(1, classes, h, w, generator=g), 1) for _ in range(8)]
    t = time.perf_counter()
    mask = ref.restrict_neighborhood(h, w, 12).unsqueeze(0).repeat(8, 1, 1)
    build = time.perf_counter() - t
    target = torch.randn(h * w, dim, generator=g)
    step, (soft, _, _) = median_seconds(lambda: ref.label_propagation(args, target, h, w, feats, segs, mask), a.repeats)

    def label_map():
        up = F.interpolate(soft, scale_factor=16, mode="bilinear", align_corners=False, recompute_scale_factor=False)[0]
        _, seg = torch.max(ref.norm_mask(up), dim=0)
        return np.array(Image.fromarray(np.array(seg, dtype=np.uint8)).resize((854, 480), 0))

    upsample, labels = median_seconds(label_map, a.repeats)
    yy, xx = np.mgrid[0:480, 0:854]
    truth = ((yy + xx) % 300) < 150
    predicted = labels == 1
    metric, _ = median_seconds(lambda: (ref.db_eval_iou(truth, predicted), ref.f_measure(predicted, truth)), a.repeats)
    print(f"reference label propagation ({h}x{w} patches, D={dim}, 8 context frames, radius 12, top 5): {1000 * step:.1f} ms a frame "
          f"(neighbourhood mask built once in {build:.1f} s); label map at 480x854: {1000 * upsample:.1f} ms; "
          f"J and F of one object: {1000 * metric:.1f} ms (medians of {a.repeats}, {a.threads} threads)")


if __name__ == "__main__":
    main()
