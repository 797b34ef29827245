"""Sliding-window inference reference (mmsegmentation's slide_inference, as Meta's DINOv3 ADE20K
evaluation uses it): window grid, logits of overlapping windows averaged, then bilinear resize to
the label size and argmax. Writes Tests/TrainingTests/Fixtures/slide.safetensors.

    PY=$(bash scripts/reference-python) && $PY scripts/make_slide_fixtures.py
"""
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TrainingTests", "Fixtures")


def slide(window_logits, h_img, w_img, crop, stride, classes):
    h_grids = max(h_img - crop + stride - 1, 0) // stride + 1
    w_grids = max(w_img - crop + stride - 1, 0) // stride + 1
    preds = torch.zeros(1, classes, h_img, w_img, dtype=torch.float64)
    count = torch.zeros(1, 1, h_img, w_img, dtype=torch.float64)
    windows = []
    for h_idx in range(h_grids):
        for w_idx in range(w_grids):
            y1, x1 = h_idx * stride, w_idx * stride
            y2, x2 = min(y1 + crop, h_img), min(x1 + crop, w_img)
            y1, x1 = max(y2 - crop, 0), max(x2 - crop, 0)
            logits = window_logits(len(windows), y2 - y1, x2 - x1)
            preds += F.pad(logits, (x1, w_img - x2, y1, h_img - y2))
            count[:, :, y1:y2, x1:x2] += 1
            windows.append((y1, x1, y2, x2, logits))
    return windows, preds / count


def main():
    g = torch.Generator().manual_seed(0)
    cases = {}
    for name, (h, w, crop, stride, classes, out_h, out_w) in {
        "wide": (37, 53, 16, 11, 3, 50, 70),   # windows flush with the far edges
        "small": (12, 40, 16, 10, 4, 12, 40),  # image shorter than the crop
    }.items():
        def window_logits(i, wh, ww):
            return torch.randn(1, classes, wh, ww, generator=g, dtype=torch.float64)
        windows, averaged = slide(window_logits, h, w, crop, stride, classes)
        resized = F.interpolate(averaged.float(), size=(out_h, out_w), mode="bilinear", align_corners=False)
        cases[f"{name}.windows"] = torch.tensor([list(w[:4]) for w in windows], dtype=torch.int64)
        cases[f"{name}.logits"] = torch.cat([w[4].permute(0, 2, 3, 1).reshape(-1) for w in windows]).float()  # channels last
        cases[f"{name}.averaged"] = averaged.permute(0, 2, 3, 1).reshape(-1).float()
        cases[f"{name}.labels"] = resized.argmax(dim=1).reshape(-1).to(torch.uint8)
        cases[f"{name}.shape"] = torch.tensor([h, w, crop, stride, classes, out_h, out_w], dtype=torch.int64)
    os.makedirs(ROOT, exist_ok=True)
    save_file(cases, os.path.join(ROOT, "slide.safetensors"), metadata={"source": "scripts/make_slide_fixtures.py", "torch": torch.__version__})


if __name__ == "__main__":
    main()
