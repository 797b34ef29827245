#!/usr/bin/env python3
"""Generates Tests/BackboneTests/Fixtures/resample.safetensors: expected outputs of PyTorch's
antialiased resize for the streaming C resampler (Sources/CImageCodecs/image_resample.c). Not run
by CI; rerun by hand from the repository root:

    PY=$(bash scripts/reference-python) && $PY scripts/make_resample_fixtures.py [--dump DIR]

Each output is, in float32 on the CPU (one thread),

    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() * (1 / 255)
    y = F.interpolate(x, size=(oh, ow), mode=mode, align_corners=False, antialias=True)
    y = y[0, :, top:top + ch, left:left + cw]

Tensor names:
    input.<id>                                   U8  [h, w, 3]  the RGB image (row-major)
    <mode>.<id>.<oh>x<ow>.<top>_<left>_<ch>x<cw>  F32 [3, ch, cw] expected crop of the resized image
where <mode> is bilinear or bicubic, <id> names the input, <oh>x<ow> is the resize target and
top, left, ch x cw the crop (the whole image when top = left = 0 and ch x cw = oh x ow).
`__metadata__` repeats each output's parameters under the output's name as
"input=<id> mode=<mode> size=<oh>x<ow> crop=<top>,<left>,<ch>x<cw>", and records the torch
version, its CPU capability (the arithmetic depends on it: AVX2/AVX-512 builds use FMAs) and
the torch >= 2.0 bicubic weights (which differ from torch <= 1.13 by float rounding).

The "eval" cases follow Meta's classification eval (torchvision Resize(int) + CenterCrop): short
side to round(S * 256 / 224), the long side int(short_target * long / short), then the centre
crop S with top = round((rh - S) / 2), left = round((rw - S) / 2) (Python's round: half to even).

--dump DIR also writes each case as DIR/<name>.u8 (input), DIR/<name>.f32 (expected, raw
little-endian) and DIR/index.txt ("name iw ih ow oh left top cw ch filter" per line, filter 0
bilinear / 1 bicubic), for the throwaway C++ harness in /tmp/resample_harness.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "BackboneTests", "Fixtures", "resample.safetensors")


def make_input(h, w, seed):
    """Noise over a smooth ramp, with saturated (0 / 255) patches."""
    g = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    ramp = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 97) % 256], -1)
    img = ramp + g.integers(-60, 61, (h, w, 3))
    img[g.random((h, w)) < 0.08] = 255
    img[g.random((h, w)) < 0.08] = 0
    return np.clip(img, 0, 255).astype(np.uint8)


def eval_geometry(h, w, size):
    """torchvision Resize(round(size * 256 / 224)) then CenterCrop(size)."""
    short_target = round(size * 256 / 224)
    if w <= h:
        rw, rh = short_target, int(short_target * h / w)
    else:
        rh, rw = short_target, int(short_target * w / h)
    top, left = round((rh - size) / 2.0), round((rw - size) / 2.0)
    return (rh, rw), (top, left, size, size)


def resize(img, mode, size, crop):
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() * (1 / 255)
    y = F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=True)
    top, left, ch, cw = crop
    return y[0, :, top:top + ch, left:left + cw].contiguous()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", help="also write raw .u8/.f32 files and index.txt into this folder")
    args = ap.parse_args()
    torch.set_num_threads(1)

    inputs = {
        "a": make_input(37, 53, 1),    # odd sizes, landscape
        "b": make_input(90, 120, 2),   # landscape, for the eval centre crop
        "c": make_input(101, 64, 3),   # portrait
        "d": make_input(5, 8, 4),      # tiny
    }
    cases = []  # (input id, mode, (oh, ow), (top, left, ch, cw))
    for mode in ("bilinear", "bicubic"):
        cases += [
            ("a", mode, (17, 29), None),    # downscale both
            ("a", mode, (45, 60), None),    # upscale both
            ("a", mode, (37, 20), None),    # height unchanged
            ("d", mode, (13, 3), None),     # up in height, down in width
            ("a", mode, (1, 1), None),
        ]
        for img_id, s in (("b", 32), ("c", 48)):
            size, crop = eval_geometry(*inputs[img_id].shape[:2], s)
            cases.append((img_id, mode, size, crop))
    cases.append(("b", "bilinear", (48, 48), None))  # the hf preset: square resize, no crop
    cases.append(("c", "bicubic", (45, 40), (7, 5, 30, 21)))  # an arbitrary crop

    tensors = {f"input.{k}": torch.from_numpy(v) for k, v in inputs.items()}
    metadata = {
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "bicubic_weights": "torch>=2.0",
        "generator": "scripts/make_resample_fixtures.py",
    }
    index = []
    for img_id, mode, (oh, ow), crop in cases:
        crop = crop or (0, 0, oh, ow)
        top, left, ch, cw = crop
        name = f"{mode}.{img_id}.{oh}x{ow}.{top}_{left}_{ch}x{cw}"
        assert name not in tensors, name
        tensors[name] = resize(inputs[img_id], mode, (oh, ow), crop)
        metadata[name] = f"input={img_id} mode={mode} size={oh}x{ow} crop={top},{left},{ch}x{cw}"
        h, w = inputs[img_id].shape[:2]
        index.append((name, img_id, w, h, ow, oh, left, top, cw, ch, 1 if mode == "bicubic" else 0))

    save_file(tensors, OUT, metadata=metadata)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(index)} cases, torch {torch.__version__}, "
          f"{metadata['cpu_capability']})")

    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        with open(os.path.join(args.dump, "index.txt"), "w") as f:
            for name, img_id, w, h, ow, oh, left, top, cw, ch, filt in index:
                inputs[img_id].tofile(os.path.join(args.dump, name + ".u8"))
                tensors[name].numpy().astype("<f4").tofile(os.path.join(args.dump, name + ".f32"))
                f.write(f"{name} {w} {h} {ow} {oh} {left} {top} {cw} {ch} {filt}\n")
        print(f"dumped {len(index)} cases to {args.dump}")


if __name__ == "__main__":
    main()
