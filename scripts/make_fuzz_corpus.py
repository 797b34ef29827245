#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz targets (fuzz/corpus/<Target>/): small valid
and almost-valid inputs of every kind each reader accepts, so that the fuzzers start from deep
inside the formats. Run from the repository root with the reference environment
(scripts/requirements-reference.txt):

    python scripts/make_fuzz_corpus.py

Deterministic; keeps every file small (the whole corpus is a few hundred KB).
"""
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FIXTURES = os.path.join(ROOT, "Tests", "BackboneTests", "Fixtures")


def out(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    """Bytes of a safetensors file: tensors is a list of (name, dtype, shape, raw bytes)."""
    header, offset, body = {}, 0, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        body += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def adam7_png(rgb, colour=2):
    """An interlaced (Adam7) PNG, which Pillow cannot write: 8-bit RGB, or 16-bit grey from a
    uint16 array with colour 0."""
    h, w = rgb.shape[:2]
    depth = 16 if rgb.dtype == np.uint16 else 8
    rgb = rgb.astype(">u2") if depth == 16 else rgb
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = rgb[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\x00" + row.tobytes() for row in sub)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 1)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def f32(values):
    return np.asarray(values, dtype="<f4").tobytes()


rng = np.random.default_rng(0)

# ------------------------------------------------------------------ CSV (FuzzTargets.csv)
# Rows split by 0x1E, cells by 0x1F; a cell of 0x01 + 8 bytes is a number (big-endian IEEE bits).
def csv_seed(rows):
    def cell(c):
        return b"\x01" + struct.pack(">d", c) if isinstance(c, float) else c
    return b"\x1e".join(b"\x1f".join(cell(c) for c in row) for row in rows)


out("CSV", "plain", csv_seed([[b"img/a.jpg", b"cat", -0.5], [b"b.jpg", b"dog", 0.25]]))
out("CSV", "formulas", csv_seed([[b"=HYPERLINK(\"http://x\")", b"+1", b"-2", b"@SUM(A1)", b"\tx", b"\rx", b"'quoted"]]))
out("CSV", "quoting", csv_seed([[b"a,b", b"say \"hi\"", b"two\nlines", b"crlf\r\nend", b""]]))
out("CSV", "not-utf8", csv_seed([[b"caf\xe9.jpg", b"100%", b"%41", b"\xf4\x8f\xbc\x80", float("nan")]]))

# ------------------------------------------------------------------ Lists (FuzzTargets.lists)
# Written as a VOC split list and as a noisy-label CSV into a fixture with a.jpg, in.jpg (a link
# to a.jpg), out.jpg and outdir (links outside the root).
out("Lists", "voc-plain", b"a\nin\n\n  a  \r\n")
out("Lists", "nyu-plain", b"/VOC2012/JPEGImages/a.jpg /VOC2012/SegmentationClass/a.png 518.8579\nVOC2012/JPEGImages/in.jpg VOC2012/SegmentationClass/a.png 1\n")
out("Lists", "nyu-hostile", b"VOC2012/JPEGImages/out.jpg VOC2012/SegmentationClass/a.png 1\n../outside/secret.jpg x 1\nVOC2012/JPEGImages/outdir/secret.jpg VOC2012/SegmentationClass/a.png 1\n")
out("Lists", "voc-hostile", b"../../../outside/secret\n/etc/passwd\nout\noutdir/secret\na//b\n./a\na\x00b\nc\rd\n")
out("Lists", "noisy-plain", b"path,noisy_labels_0,is_valid\ntrain/a/x.JPEG,a,False\n\"train/b,c/y.JPEG\",b,True\n")
out("Lists", "noisy-hostile", b"path,noisy_labels_0\n../../etc/passwd,a\n/abs/x.JPEG,b\n")

# ------------------------------------------------------------------ SafeTensors
out("SafeTensors", "empty", safetensors([]))
out("SafeTensors", "f32", safetensors([("a", "F32", [2, 3], f32(rng.normal(size=6)))], {"k": "v"}))
out("SafeTensors", "mixed", safetensors([
    ("h", "F16", [4], np.asarray([1, -2, 65504, 0.5], dtype="<f2").tobytes()),
    ("b", "BF16", [2], np.asarray([0x3F80, 0x7F80], dtype="<u2").tobytes()),
    ("i", "I64", [2], np.asarray([1, -1], dtype="<i8").tobytes()),
    ("u", "U8", [3], bytes([0, 1, 255])),
    ("z", "F32", [0, 5], b""),
    ("d", "F64", [1], np.asarray([3.5], dtype="<f8").tobytes()),
]))
out("SafeTensors", "nan", safetensors([("w", "F32", [2], f32([np.nan, np.inf]))]))

# ------------------------------------------------------------------ JSON and Config
for model in sorted(os.listdir(os.path.join(FIXTURES, "models"))):
    config = os.path.join(FIXTURES, "models", model, "config.json")
    if os.path.exists(config):
        data = open(config, "rb").read()
        out("Config", f"config-{model}.json", data)
        out("JSON", f"config-{model}.json", data)
index = os.path.join(FIXTURES, "models", "sharded", "model.safetensors.index.json")
out("Config", "index.json", open(index, "rb").read())
out("JSON", "index.json", open(index, "rb").read())
out("Config", "index-escape.json", json.dumps({"weight_map": {"a": "../x.safetensors", "b": "/abs.safetensors"}}).encode())
out("JSON", "values.json", b'{"a":[1,-2.5e3,0,true,false,null,"\\u00e9\\ud83d\\ude00\\n"],"b":{"c":[[[]]]}}')

# ------------------------------------------------------------------ Images
for name in sorted(os.listdir(os.path.join(FIXTURES, "images"))):
    path = os.path.join(FIXTURES, "images", name)
    if os.path.getsize(path) <= 32 * 1024:
        out("Images", name, open(path, "rb").read())

pixels = (rng.integers(0, 256, (20, 28, 3))).astype(np.uint8)
img = Image.fromarray(pixels)


def save(image, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, **kwargs)
    return buffer.getvalue()


out("Images", "progressive.jpg", save(img, format="JPEG", progressive=True, quality=80))
out("Images", "grey.jpg", save(img.convert("L"), format="JPEG"))
out("Images", "cmyk.jpg", save(img.convert("CMYK"), format="JPEG"))
out("Images", "interlaced.png", adam7_png(pixels))
for orientation in range(2, 9):
    exif = Image.Exif()
    exif[0x0112] = orientation
    out("Images", f"exif{orientation}.jpg", save(img, format="JPEG", exif=exif.tobytes(), quality=70))
out("Images", "exif6.png", save(img, format="PNG", exif=Image.Exif().tobytes()))
out("Images", "grey16.png", save(Image.fromarray((rng.integers(0, 65536, (9, 7))).astype(np.uint16)), format="PNG"))
out("Images", "palette-trns.png", save(img.convert("P"), format="PNG", transparency=3))
out("Images", "la.png", save(img.convert("LA"), format="PNG"))
out("Images", "rgba.png", save(img.convert("RGBA"), format="PNG"))
out("Images", "bits1.png", save(img.convert("1"), format="PNG"))

# ------------------------------------------------------------------ Masks
labels = rng.integers(0, 5, (12, 10)).astype(np.uint8)
labels[0, :] = 255
out("Masks", "grey.png", save(Image.fromarray(labels, mode="L"), format="PNG"))
palette_mask = Image.fromarray(labels, mode="P")
palette_mask.putpalette([v for i in range(256) for v in (i, 255 - i, (i * 7) % 256)])
out("Masks", "palette.png", save(palette_mask, format="PNG"))
out("Masks", "bits4.png", save(Image.fromarray(labels % 16, mode="P"), format="PNG", bits=4))
out("Masks", "rgb.png", save(img, format="PNG"))

# ------------------------------------------------------------------ Heads
head_meta = {"format": "dinoprobe-head", "format_version": "1", "kind": "classifier", "feature_recipe": "r",
             "backbone_id": "m", "backbone_fingerprint": "f", "class_names": json.dumps(["a", "b", "c"]), "extra": "{}"}
out("Heads", "classifier", safetensors([("weight", "F32", [3, 4], f32(rng.normal(size=12))), ("bias", "F32", [3], f32([0, 0.1, -0.1]))], head_meta))
seg_meta = dict(head_meta, kind="segmenter", palette=json.dumps([0, 0, 0, 255, 0, 0, 0, 255, 0]), input_resolution="32")
out("Heads", "segmenter", safetensors([
    ("conv.weight", "F32", [3, 4, 1, 1], f32(rng.normal(size=12))), ("conv.bias", "F32", [3], f32([0, 0, 0])),
    ("bn.weight", "F32", [4], f32([1, 1, 1, 1])), ("bn.bias", "F32", [4], f32([0, 0, 0, 0])),
    ("bn.running_mean", "F32", [4], f32([0, 0, 0, 0])), ("bn.running_var", "F32", [4], f32([1, 1, 1, 1])),
    ("bn.num_batches_tracked", "I64", [], np.asarray([7], dtype="<i8").tobytes()),
], seg_meta))

# ------------------------------------------------------------------ Features (our own files)
features_meta = {"format": "dinoprobe-features-v1", "model": "m", "backbone_fingerprint": "f", "preset": "hf",
                 "size": "224", "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225", "layers": "2",
                 "paths": json.dumps(["/d/train/a/1.jpg", "/d/train/b/2.jpg", "/d/train/a/3.jpg"]), "skipped": "[]"}
out("Features", "features", safetensors([
    ("cls", "F32", [3, 4], f32(rng.normal(size=12))), ("mean_patch", "F32", [3, 4], f32(rng.normal(size=12))),
    ("layers_cls", "F32", [3, 2, 4], f32(rng.normal(size=24))), ("layers_mean_patch", "F32", [3, 2, 4], f32(rng.normal(size=24))),
    ("patch_tokens", "F16", [3, 1, 2, 4], np.zeros(24, dtype="<f2").tobytes()), ("registers", "F32", [3, 1, 4], f32(np.zeros(12))),
], features_meta))
out("Features", "features-labels", safetensors([
    ("cls", "F32", [3, 4], f32(rng.normal(size=12))), ("mean_patch", "F32", [3, 4], f32(rng.normal(size=12))),
    ("labels", "I64", [3], np.asarray([0, 1, 1], dtype="<i8").tobytes()),
], dict(features_meta, class_names=json.dumps(["x", "y"]))))
out("Features", "cache", safetensors([
    ("cls", "F32", [2, 1, 4], f32(rng.normal(size=8))), ("mean_patch", "F32", [2, 1, 4], f32(rng.normal(size=8))),
    ("source_index", "I64", [2], np.asarray([0, 2], dtype="<i8").tobytes()),
], {"format": "dinoprobe-feature-cache-v1", "backbone_fingerprint": "f", "inputs": "3",
    "skipped": json.dumps([["1", "/d/b.jpg", "corrupt"]])}))
out("Features", "patch-store", safetensors([
    ("patch_tokens", "F16", [1, 1, 1, 4], np.asarray([0.5, -1, 2, 0], dtype="<f2").tobytes()),
    ("labels", "U8", [1, 16, 16], bytes([i % 3 for i in range(256)])),
], {"format": "dinoprobe-patch-store-v1", "backbone_fingerprint": "f", "resolution": "16", "flip": "false", "skipped": "[]"}))
out("Features", "patch-store-features", safetensors([
    ("patch_tokens", "F16", [1, 1, 1, 4], np.asarray([0.5, -1, 2, 0], dtype="<f2").tobytes()),
    ("target_u8", "U8", [1, 16, 16], bytes([i % 3 for i in range(256)])),
    ("source_index", "I64", [1], np.asarray([0], dtype="<i8").tobytes()),
], dict(features_meta, size="16", layers="1", paths=json.dumps(["/d/a.png"]), inputs="1", views="1", target="classes", classes="3")))

total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(CORPUS) for f in fs)
print(f"wrote {CORPUS}: {sum(len(fs) for _, _, fs in os.walk(CORPUS))} files, {total // 1024} KB")

# ------------------------------------------------------------------ Pth
# torch.save's zip format (PyTorch is in the reference environment): protocols 2 and 4 (FRAME,
# MEMOIZE, SHORT_BINUNICODE), BF16/F16 storages, views into a shared storage, Meta's names.
import collections  # noqa: E402

import torch  # noqa: E402


def pth(obj, **kwargs):
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


state = collections.OrderedDict(a=torch.arange(6, dtype=torch.float32).reshape(2, 3),
                                b=torch.tensor([1.5, -2.0]).to(torch.bfloat16), h=torch.tensor([0.25]).half())
state._metadata = collections.OrderedDict([("", {"version": 1})])
out("Pth", "state-dict", pth(state))
out("Pth", "protocol4", pth(state, pickle_protocol=4))
shared = torch.arange(12.0)
out("Pth", "views", pth({"t": shared.reshape(3, 4).t(), "s": shared[2:5], "e": torch.zeros(0, 3)}))
out("Pth", "meta-names", pth({"cls_token": torch.zeros(1, 1, 8), "rope_embed.periods": torch.ones(2),
                              "blocks.0.attn.qkv.bias": torch.zeros(24), "blocks.0.attn.qkv.bias_mask": torch.ones(24)}))
out("Pth", "nan", pth({"w": torch.tensor([float("nan"), 1.0])}))

# ------------------------------------------------------------------ PNG16 (FuzzTargets.png16)
depth_rng = np.random.default_rng(16)
depth_mm = depth_rng.integers(0, 65536, (11, 13)).astype(np.uint16)
depth_mm[0, :3] = [0, 1, 65535]
out("PNG16", "depth.png", save(Image.fromarray(depth_mm), format="PNG"))
out("PNG16", "interlaced.png", adam7_png(depth_mm, colour=0))
out("PNG16", "grey8.png", save(Image.fromarray((depth_mm >> 8).astype(np.uint8), mode="L"), format="PNG"))
out("PNG16", "rgb.png", save(img, format="PNG"))
out("PNG16", "zeros.png", save(Image.fromarray(np.zeros((5, 4), dtype=np.uint16)), format="PNG"))
