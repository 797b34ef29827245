"""Meta's classification training transform, the deterministic part: torchvision's
`resized_crop` (crop box, resize to a square with antialiased bicubic) and the flip, on a
float image. Writes Tests/BackboneTests/Fixtures/augment.safetensors.

    PY=$(bash scripts/reference-python) && $PY scripts/make_augment_fixtures.py
"""
import os

import numpy as np
import torch
import torchvision
from PIL import Image
from safetensors.torch import save_file
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F

SIZE = 48  # the arithmetic is the same at 224; small keeps the fixture small
ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "BackboneTests", "Fixtures")


def main():
    image = Image.open(os.path.join(ROOT, "images", "palette_100x140.png")).convert("RGB")
    x = torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).float() / 255  # [3, 140, 100]
    boxes = [(0, 0, 100, 140, 0), (10, 20, 37, 51, 0), (63, 5, 37, 120, 1), (3, 88, 90, 40, 1), (50, 70, 1, 1, 0)]
    out = {}
    for n, (left, top, w, h, mirror) in enumerate(boxes):
        view = F.resized_crop(x, top, left, h, w, [SIZE, SIZE], InterpolationMode.BICUBIC, antialias=True)
        if mirror:
            view = torch.flip(view, dims=[2])
        out[f"view{n}"] = view.contiguous()
    out["boxes"] = torch.tensor(boxes, dtype=torch.int64)
    save_file(out, os.path.join(ROOT, "augment.safetensors"),
              metadata={"source": "scripts/make_augment_fixtures.py", "torch": torch.__version__, "torchvision": torchvision.__version__})


if __name__ == "__main__":
    main()
