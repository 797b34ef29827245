"""Meta's depth training transforms (dinov3/eval/depth/transforms.py: NYUCrop on the PIL image and
depth, ToTensor, NormalizeDepth, RandomRotation with Meta's nearest-neighbour kernel for the depth,
hflip, crop, ColorAug) with the random draws fixed, on small generated pairs.
Writes Tests/TrainingTests/Fixtures/depth_augment.safetensors.

    PY=$(bash scripts/reference-python) && $PY scripts/make_depth_augment_fixtures.py
"""
import os

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image
from safetensors.torch import save_file
from torchvision import tv_tensors
from torchvision.transforms import v2

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TrainingTests", "Fixtures")
# width, height, crop width, crop height, NYU fixed crop, rotation (degrees) or None, flip, top, left,
# ColorAug draws (gamma, brightness, colours) or None
CASES = [
    (64, 48, 40, 30, True, 2.1, False, 3, 5, (1.07, 0.8, (0.95, 1.02, 1.09))),
    (64, 48, 40, 30, True, None, True, 0, 11, None),
    (50, 37, 20, 16, False, -1.7, True, 7, 2, (0.92, 1.2, (1.1, 0.9, 1.0))),
    (96, 72, 80, 60, True, 2.5, True, 2, 5, (1.1, 1.25, (0.9, 1.1, 1.05))),
]


class Depth(tv_tensors.Mask):
    pass


@v2.functional.register_kernel(functional="rotate", tv_tensor_cls=Depth)
def depth_rotate(my_dp, angle, *args, **kwargs):
    """transforms.py: the depth is rotated with nearest-neighbour sampling."""
    out = TF.rotate(my_dp, angle=angle, interpolation=T.InterpolationMode.NEAREST)
    return tv_tensors.wrap(out, like=my_dp)


def nyu_crop(img, crop_box=(43, 45, 608, 472)):
    """transforms.py NYUCrop.__call__ (PIL branch)."""
    x1, y1, x2, y2 = crop_box
    orig_h, orig_w = 480, 640
    w, h = img.size
    y1_new = int((y1 / orig_h) * h)
    y2_new = int((y2 / orig_h) * h)
    x1_new = int((x1 / orig_w) * w)
    x2_new = int((x2 / orig_w) * w)
    return img.crop((x1_new, y1_new, x2_new, y2_new))


def color_aug(img, gamma, brightness, colors):
    """transforms.py ColorAug.__call__ with its draws given (the applied branch)."""
    image = img.permute((1, 2, 0)) * 255
    image_aug = image**gamma
    image_aug = image_aug * brightness
    white = np.ones((image.shape[0], image.shape[1]), dtype=np.float32)
    color_image = np.stack([white * colors[i] for i in range(3)], axis=2)
    image_aug *= torch.from_numpy(color_image)
    image_aug = torch.clip(image_aug, 0, 255)
    image_aug = image_aug / 255
    return image_aug.permute((2, 0, 1))


def main():
    rng = np.random.default_rng(8)
    tensors = {}
    for i, (w, h, cw, ch, nyu, rotation, flip, top, left, colour) in enumerate(CASES):
        pixels = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
        depth = rng.integers(0, 10000, (h, w)).astype(np.uint16)
        img, label = Image.fromarray(pixels), Image.fromarray(depth)
        if nyu:
            img, label = nyu_crop(img), nyu_crop(label)
        img = T.ToTensor()(img)
        label = Depth(torch.from_numpy(np.array(label).astype(np.float32))[None] / 1000.0)
        if rotation is not None:  # v2.RandomRotation(degrees) with its angle drawn as `rotation`
            img, label = v2.RandomRotation(degrees=(rotation, rotation), interpolation=T.InterpolationMode.BILINEAR)(img, label)
        if flip:
            img, label = TF.hflip(img), TF.hflip(label)
        img, label = TF.crop(img, top, left, ch, cw), TF.crop(label, top, left, ch, cw)
        if colour is not None:
            img = color_aug(img, colour[0], colour[1], colour[2])
        g, b, c = colour if colour else (0, 0, (0, 0, 0))
        tensors[f"params{i}"] = torch.tensor([w, h, cw, ch, nyu, flip, top, left, colour is not None, g, b, *c,
                                              rotation is not None, rotation or 0], dtype=torch.float32)
        tensors[f"image{i}"] = torch.from_numpy(pixels.astype(np.float32))
        tensors[f"depth{i}"] = torch.from_numpy(depth.astype(np.float32))
        tensors[f"out_image{i}"] = img.contiguous().float()
        tensors[f"out_depth{i}"] = torch.Tensor(label)[0].contiguous()
    path = os.path.join(ROOT, "depth_augment.safetensors")
    save_file(tensors, path)
    os.chmod(path, 0o644)
    print("wrote depth_augment.safetensors:", len(CASES), "cases")


if __name__ == "__main__":
    main()
