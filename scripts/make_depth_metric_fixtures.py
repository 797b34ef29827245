"""Meta's depth evaluation (dinov3/eval/depth: eval.py's order of operations, datasets_utils.py's
make_valid_mask, metrics.py's calculate_depth_metrics, then nanmean over images), copied
faithfully, on small generated depth maps; plus BTS's Garg crop (cleinc/bts, bts_eval.py), which
Meta's code does not have. Also writes a 16-bit depth PNG with Pillow. Writes
Tests/TrainingTests/Fixtures/depth_metrics.json and depth_mm_23x17.png.

    PY=$(bash scripts/reference-python) && $PY scripts/make_depth_metric_fixtures.py
"""
import json
import math
import os

import numpy as np
import torch
from PIL import Image

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TrainingTests", "Fixtures")
NAMES = ["a1", "a2", "a3", "abs_rel", "rmse", "log_10", "rmse_log", "silog", "sq_rel", "mae"]


def make_valid_mask(input, eval_crop="FULL", ignored_value=0.0):
    """dinov3/eval/depth/datasets/datasets_utils.py, with BTS's Garg crop added."""
    B, _, h, w = input.shape
    eval_mask = torch.zeros(input.shape, device=input.device)
    if eval_crop == "NYU_EIGEN":
        y1, y2, x1, x2 = 45, 471, 41, 601
        orig_h, orig_w = 480, 640
        y1_new = int((y1 / orig_h) * h)
        y2_new = int((y2 / orig_h) * h)
        x1_new = int((x1 / orig_w) * w)
        x2_new = int((x2 / orig_w) * w)
        eval_mask[:, :, y1_new:y2_new, x1_new:x2_new] = 1
    elif eval_crop == "GARG":  # cleinc/bts pytorch/bts_eval.py
        eval_mask[:, :, int(0.40810811 * h):int(0.99189189 * h), int(0.03594771 * w):int(0.96405229 * w)] = 1
    else:
        eval_mask.fill_(1)
    ignored_value_mask = torch.ones((B, 1, h, w), device=eval_mask.device)
    ignored_value_mask[(input == ignored_value).all(dim=1, keepdims=True)] = 0
    eval_mask = eval_mask * ignored_value_mask
    return eval_mask.bool()


def calculate_depth_metrics(gt, pred, valid_mask=None):
    """dinov3/eval/depth/metrics.py with every metric asked for."""
    if gt.shape[0] == 0:
        return [torch.nan] * len(NAMES)
    if valid_mask is not None:
        valid_mask = torch.logical_and(valid_mask, gt > 0)
    gt = gt[valid_mask]
    pred = pred[valid_mask]
    m = {}
    thresh = torch.maximum((gt / pred), (pred / gt))
    m["a1"] = (thresh < 1.25).float().mean()
    m["a2"] = (thresh < 1.25**2).float().mean()
    m["a3"] = (thresh < 1.25**3).float().mean()
    error = gt - pred
    sq_error = error**2
    m["mae"] = torch.mean(torch.abs(error))
    m["abs_rel"] = torch.mean(torch.abs(error) / gt)
    m["sq_rel"] = torch.mean(sq_error / gt)
    m["rmse"] = torch.sqrt(sq_error.mean())
    error_log = torch.log(gt) - torch.log(pred)
    sq_error_log = error_log**2
    m["rmse_log"] = torch.sqrt(sq_error_log.mean())
    silog = torch.sqrt(torch.mean(sq_error_log) - torch.mean(error_log) ** 2) * 100
    if torch.isnan(silog):
        silog = torch.tensor(0)
    m["silog"] = silog
    m["log_10"] = (torch.abs(torch.log10(gt) - torch.log10(pred))).mean()
    return [float(m[n]) for n in NAMES]


def evaluate(gt_map, preds, crop, lo, hi):
    """eval.py's per-image steps: out-of-range gt ignored, mask, clamp, metrics."""
    gt_map = torch.where(torch.logical_or(gt_map >= hi, gt_map <= lo), 0.0, gt_map)
    valid_mask = make_valid_mask(gt_map, eval_crop=crop, ignored_value=0.0)
    preds = preds.clamp(min=lo, max=hi)
    return calculate_depth_metrics(gt_map, preds, valid_mask)


def none_for_nan(v):
    return None if math.isnan(v) else v


def main():
    rng = np.random.default_rng(29)
    cases = []
    for crop, lo, hi, depth_scale, sizes in [("NYU_EIGEN", 0.001, 10.0, 1000, [(40, 30), (64, 48), (37, 29)]),
                                             ("FULL", 0.001, 10.0, 1000, [(20, 15), (33, 21)]),
                                             ("GARG", 0.001, 80.0, 256, [(61, 19), (40, 12)])]:
        images = []
        for k, (w, h) in enumerate(sizes):
            scale = hi / 10
            gt_mm = (rng.uniform(0.3, 9.5, (h, w)) * scale * depth_scale).astype(np.uint16)
            gt_mm[rng.random((h, w)) < 0.15] = 0                     # no depth
            gt_mm[rng.random((h, w)) < 0.05] = int(hi * depth_scale) + 7     # beyond max: ignored
            if k == len(sizes) - 1 and crop != "FULL":
                gt_mm[:] = 0                                          # no valid pixel at all
            gt = gt_mm.astype(np.float32) / np.float32(depth_scale)
            pred = (gt + rng.normal(0, 0.4 * scale, (h, w))).astype(np.float32)
            pred[rng.random((h, w)) < 0.05] = -1.0                    # clamped to min
            pred[rng.random((h, w)) < 0.05] = hi * 3                  # clamped to max
            pred[gt_mm == 0] = rng.uniform(0.5, 5, (int((gt_mm == 0).sum()),)).astype(np.float32)
            row = evaluate(torch.from_numpy(gt)[None, None], torch.from_numpy(pred)[None, None], crop, lo, hi)
            images.append({"width": w, "height": h, "gt_raw": gt_mm.flatten().tolist(),
                           "pred": [float(v) for v in pred.flatten()], "metrics": row})
        table = torch.tensor([im["metrics"] for im in images], dtype=torch.float32).T
        mean = table.nanmean(1)
        for im in images:
            im["metrics"] = [none_for_nan(v) for v in im["metrics"]]
        cases.append({"crop": crop, "depth_scale": depth_scale, "min_depth": lo, "max_depth": hi, "images": images,
                      "mean": {n: none_for_nan(float(v)) for n, v in zip(NAMES, mean)}})
    with open(os.path.join(ROOT, "depth_metrics.json"), "w") as f:
        json.dump({"names": NAMES, "cases": cases}, f, allow_nan=False)

    depth = (np.arange(23 * 17).reshape(17, 23) * 157 % 65536).astype(np.uint16)
    depth[0, :4] = [0, 1, 255, 65535]
    Image.fromarray(depth).save(os.path.join(ROOT, "depth_mm_23x17.png"))
    back = np.array(Image.open(os.path.join(ROOT, "depth_mm_23x17.png")))
    assert back.dtype == np.uint16 and (back == depth).all(), "Pillow did not round-trip the 16-bit PNG"
    print("wrote depth_metrics.json and depth_mm_23x17.png;", [c["mean"]["rmse"] for c in cases])


if __name__ == "__main__":
    main()
