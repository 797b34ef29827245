"""Keypoint matching and PCK of `dinoprobe correspondence`, in PyTorch, on small random feature
grids: writes Tests/TrainingTests/Fixtures/correspondence.json.

    PY=$(bash scripts/reference-python) && $PY scripts/make_correspondence_fixtures.py

The arithmetic follows Probe3D's `evaluate_spair_correspondence.py` (El Banani et al. 2024,
github.com/mbanani/probe3d): patch features L2-normalised (`F.normalize`), the source feature
sampled bilinearly with `grid_sample`, the heatmap as an einsum of it with the target grid,
its argmax. Where dinoprobe differs it is written below: the heatmap is upsampled
(`interpolate`, bilinear, align_corners=False) to the target's pixels before the argmax, as DIFT's
`eval_spair.py` does with its features, and the sampling uses the same pixel-centre convention
(align_corners=False, border clamp) instead of Probe3D's align_corners=True; the sampled source
feature is renormalised. The window soft-argmax is GeoAware-SC's (SFNet's softmax with beta 0.02
around the argmax), restricted to the window. PCK: error <= alpha * max(target box w, h) (SPair,
DIFT), per point pooled and per image (mean of each pair's fraction), per category, and
Probe3D's mean over categories of per-point PCK.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TrainingTests", "Fixtures", "correspondence.json")
BETA = 0.02
ALPHAS = [0.1, 0.05, 0.01]


def source_vector(grid, x, y, side):
    """grid: [G, G, D] normalised; (x, y) a pixel index whose centre is (x + 0.5, y + 0.5)."""
    xn, yn = 2 * (x + 0.5) / side - 1, 2 * (y + 0.5) / side - 1
    point = torch.tensor([[[[xn, yn]]]], dtype=grid.dtype)
    feat = F.grid_sample(grid.permute(2, 0, 1)[None], point, mode="bilinear", align_corners=False, padding_mode="border")
    return F.normalize(feat[0, :, 0, 0], dim=0)


def similarity(vector, grid, side, width, height):
    heat = torch.einsum("d,hwd->hw", vector, grid)  # Probe3D: einsum(kp_i_F, feats_j, "k f, f h w -> k h w")
    up = F.interpolate(heat[None, None], size=(side, side), mode="bilinear", align_corners=False)[0, 0]
    return up[:height, :width]


def soft_argmax(heat, bx, by, window):
    h, w = heat.shape
    y0, y1, x0, x1 = max(0, by - window), min(h - 1, by + window), max(0, bx - window), min(w - 1, bx + window)
    patch = heat[y0:y1 + 1, x0:x1 + 1].double()
    weights = torch.softmax(patch.flatten() / BETA, dim=0).reshape(patch.shape)
    ys, xs = torch.meshgrid(torch.arange(y0, y1 + 1).double(), torch.arange(x0, x1 + 1).double(), indexing="ij")
    return float((weights * xs).sum()), float((weights * ys).sum())


def clear_argmax(heat):
    """The argmax (row-major first), and whether the best value beats every other distinct value
    by a margin (so float32 rounding cannot change it)."""
    flat = heat.flatten()
    best = int(torch.argmax(flat))
    others = flat[flat != flat[best]]
    return best, others.numel() == 0 or float(flat[best] - others.max()) > 1e-4


def make_case(rng, grid_side, dim, src_size, trg_size, keypoints, window):
    raw = [torch.from_numpy(rng.standard_normal((grid_side, grid_side, dim)).astype(np.float32)) for _ in range(2)]
    grids = [F.normalize(r, dim=-1) for r in raw]
    (sw, sh), (tw, th) = src_size, trg_size
    points, matches = [], []
    while len(points) < keypoints:
        x, y = float(rng.integers(0, sw)), float(rng.integers(0, sh))
        if len(points) % 3 == 2:
            x, y = min(x + 0.25, sw - 1), min(y + 0.75, sh - 1)  # not only whole pixels
        heat = similarity(source_vector(grids[0], x, y, max(sw, sh)), grids[1], max(tw, th), tw, th)
        best, clear = clear_argmax(heat)
        if not clear:
            continue
        bx, by = best % tw, best // tw
        sx, sy = soft_argmax(heat, bx, by, window) if window is not None else (float(bx), float(by))
        points.append([x, y])
        matches.append({"argmax": [bx, by], "point": [sx, sy],
                        "sourceFeature": [float(v) for v in source_vector(grids[0], x, y, max(sw, sh))[:4]]})
    return {"grid": grid_side, "dim": dim, "source": [float(v) for v in raw[0].flatten()],
            "target": [float(v) for v in raw[1].flatten()], "sourceSize": [sw, sh], "targetSize": [tw, th],
            "window": window, "keypoints": points, "matches": matches}


def pck_case(rng):
    pairs = []
    for i in range(7):
        n = int(rng.integers(1, 7))
        box = [float(v) for v in sorted(rng.uniform(0, 100, 2))] + [0.0, 0.0]
        box = [box[0], 10.0, box[1] + 5, 10.0 + float(rng.uniform(5, 90))]
        side = max(box[2] - box[0], box[3] - box[1])
        errors = [float(side * rng.choice([0.0, 0.004, 0.03, 0.05, 0.07, 0.1, 0.2, 0.5])) for _ in range(n)]
        pairs.append({"name": f"pair{i}", "category": "cat" if i % 3 else "dog", "box": box, "errors": errors})
    cats = sorted({p["category"] for p in pairs})

    def scores(ps):
        e = [torch.tensor(p["errors"], dtype=torch.float64) for p in ps]
        s = [max(p["box"][2] - p["box"][0], p["box"][3] - p["box"][1]) for p in ps]
        point = {str(a): float(torch.cat([(x <= a * b).double() for x, b in zip(e, s)]).mean()) for a in ALPHAS}
        image = {str(a): float(np.mean([float((x <= a * b).double().mean()) for x, b in zip(e, s)])) for a in ALPHAS}
        return {"pairs": len(ps), "points": sum(len(x) for x in e), "perPoint": point, "perImage": image}

    per_cat = {c: scores([p for p in pairs if p["category"] == c]) for c in cats}
    mean = {k: {str(a): float(np.mean([per_cat[c][k][str(a)] for c in cats])) for a in ALPHAS} for k in ["perPoint", "perImage"]}
    return {"pairs": pairs, "categories": per_cat, "overall": scores(pairs), "categoryMean": mean}


def main():
    rng = np.random.default_rng(30)
    cases = [make_case(rng, 4, 8, (37, 29), (23, 41), 6, None),
             make_case(rng, 5, 16, (50, 50), (61, 33), 6, 2),
             make_case(rng, 3, 6, (20, 45), (45, 20), 6, 3),
             make_case(rng, 6, 12, (96, 96), (80, 96), 5, 1)]
    with open(OUT, "w") as f:
        json.dump({"beta": BETA, "cases": cases, "pck": pck_case(rng)}, f)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
