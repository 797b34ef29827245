"""Meta's segmentation training augmentation (dinov3/eval/segmentation/transforms.py), its
deterministic parts with the random draws fixed: the image resized by PIL's bilinear filter (as
torchvision's Resize does on a PIL image), the label map by torch's nearest interpolation, and
the photometric distortion (float32 brightness/contrast with numpy's clip and cast, torchvision's
adjust_saturation and adjust_hue on uint8). Writes Tests/BackboneTests/Fixtures/seg_augment.safetensors.

    PY=$(bash scripts/reference-python) && $PY scripts/make_seg_augment_fixtures.py
"""
import math
import os

import numpy as np
import torch
import torchvision
from PIL import Image
from safetensors.torch import save_file
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as Fv

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "BackboneTests", "Fixtures")
SIZES = [(64, 90), (150, 210), (37, 52), (100, 140)]  # (width, height)
# brightness beta, contrast first (mode 1), contrast alpha, saturation factor, hue factor; NaN = step not drawn
DRAWS = [
    (20.5, 1, 1.3, 0.6, 0.1),
    (-31.0, 0, 0.55, 1.45, -0.45),
    (math.nan, 1, math.nan, 1.2, 0.5),
    (7.25, 0, 1.49, math.nan, math.nan),
    (math.nan, 0, math.nan, math.nan, -0.2),
    (-5.0, 1, 0.8, 0.0, 0.33),
]


def convert(img, alpha=1.0, beta=0.0):
    img = img.astype(np.float32) * alpha + beta
    return np.clip(img, 0, 255).astype(np.uint8)


def photometric(img, beta, mode, alpha, saturation, hue):
    """Meta's PhotoMetricDistortion.forward with its draws given (HWC uint8)."""
    if not math.isnan(beta):
        img = convert(img, beta=beta)
    if mode == 1 and not math.isnan(alpha):
        img = convert(img, alpha=alpha)
    if not math.isnan(saturation):
        img = Fv.adjust_saturation(torch.tensor(img).permute(2, 0, 1), saturation).permute(1, 2, 0).numpy()
    if not math.isnan(hue):
        img = Fv.adjust_hue(torch.tensor(img).permute(2, 0, 1), hue).permute(1, 2, 0).numpy()
    if mode == 0 and not math.isnan(alpha):
        img = convert(img, alpha=alpha)
    return img


def main():
    image = Image.open(os.path.join(ROOT, "images", "palette_100x140.png")).convert("RGB")
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 6, size=(14, 10)).astype(np.uint8).repeat(10, axis=0).repeat(10, axis=1)
    labels[rng.random(labels.shape) < 0.05] = 255
    out = {"labels": torch.from_numpy(labels.copy())}
    mask = torch.from_numpy(labels.copy())[None]
    for n, (w, h) in enumerate(SIZES):
        out[f"resized{n}"] = torch.from_numpy(np.asarray(Fv.resize(image, [h, w], InterpolationMode.BILINEAR)).copy())
        out[f"labels{n}"] = Fv.resize(mask, [h, w], InterpolationMode.NEAREST)[0].contiguous()
    out["sizes"] = torch.tensor(SIZES, dtype=torch.int64)
    pixels = np.asarray(image).copy()
    for n, draw in enumerate(DRAWS):
        out[f"photometric{n}"] = torch.from_numpy(photometric(pixels, *draw).copy())
    out["draws"] = torch.tensor(DRAWS, dtype=torch.float64)
    save_file(out, os.path.join(ROOT, "seg_augment.safetensors"),
              metadata={"source": "scripts/make_seg_augment_fixtures.py", "torch": torch.__version__, "torchvision": torchvision.__version__})


if __name__ == "__main__":
    main()
