#!/usr/bin/env python3
"""Generates the parity fixtures under Tests/BackboneTests/Fixtures with Hugging Face
`transformers` (random initialisation, real architecture). Not run by CI; rerun by hand:

    PY=$(bash scripts/reference-python) && $PY scripts/make_fixtures.py

Each model case stores its pixel input (F16 values, so both sides read identical numbers),
`last_hidden_state`, `pooler_output` and the normed outputs of the last two blocks.
"""
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw
from safetensors.torch import save_file
from transformers import DINOv3ViTConfig, DINOv3ViTModel
from transformers.image_utils import load_image
from transformers.models.dinov3_vit.image_processing_dinov3_vit import DINOv3ViTImageProcessor

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "BackboneTests", "Fixtures")
MODELS = os.path.join(ROOT, "models")
CASES = os.path.join(ROOT, "cases")
IMAGES = os.path.join(ROOT, "images")


def randomise(model, seed):
    """Weights of realistic scale (not the near-zero init), so every path matters; layer scales
    (ViT lambda1, ConvNeXt gamma) between 0.3 and 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("lambda1", "gamma")):
                p.copy_(0.3 + 0.7 * torch.rand(p.shape, generator=g))
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() >= 2 and "embeddings" not in name or name.endswith("patch_embeddings.weight"):
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
            else:
                p.copy_(torch.randn(p.shape, generator=g))


def make_model(name, seed, dtype=torch.float32, shard=None, **cfg):
    config = DINOv3ViTConfig(**cfg)
    model = DINOv3ViTModel(config).eval()
    randomise(model, seed)
    folder = os.path.join(MODELS, name)
    shutil.rmtree(folder, ignore_errors=True)
    if dtype != torch.float32:
        model = model.to(dtype)
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(folder, safe_serialization=True, **kwargs)
    # Reload as a user would (weights upcast to float32), so the fixture is what transformers computes.
    return DINOv3ViTModel.from_pretrained(folder, dtype=torch.float32).eval()


def run_case(case, model, height, width, batch=1, seed=0):
    g = torch.Generator().manual_seed(1000 + seed)
    pixels = torch.randn(batch, 3, height, width, generator=g).to(torch.float16)
    with torch.inference_mode():
        out = model(pixel_values=pixels.float(), output_hidden_states=True)
        hidden = out.hidden_states  # embeddings + one per block, before the final norm
        layers = [model.norm(h) for h in hidden[-2:]]
    assert len(hidden) == model.config.num_hidden_layers + 1
    assert torch.equal(layers[1], out.last_hidden_state), "hidden_states[-1] is not the pre-norm last block"
    tensors = {
        "pixel_values": pixels.contiguous(),
        "last_hidden_state": out.last_hidden_state.clone(),
        "pooler_output": out.pooler_output.clone(),
        "layer_minus_2": layers[0].clone(),
        "layer_minus_1": layers[1].clone(),
    }
    os.makedirs(CASES, exist_ok=True)
    save_file(tensors, os.path.join(CASES, case + ".safetensors"),
              metadata={"model": model.name_or_path.split("/")[-1], "height": str(height), "width": str(width)})
    print(f"{case}: tokens {tuple(out.last_hidden_state.shape)}")


def make_images():
    """Test images of several modes and sizes, drawn so that resizing has structure to get right."""
    shutil.rmtree(IMAGES, ignore_errors=True)
    os.makedirs(IMAGES)
    rng = np.random.default_rng(7)

    def scene(w, h):
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), ((xx + yy) * 3) % 256], -1)
        noise = rng.integers(0, 40, (h, w, 3))
        img = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")
        d = ImageDraw.Draw(img)
        d.ellipse([w * 0.2, h * 0.2, w * 0.6, h * 0.7], fill=(220, 30, 40))
        d.rectangle([w * 0.55, h * 0.1, w * 0.9, h * 0.45], fill=(20, 200, 60))
        return img

    specs = {}
    scene(300, 200).save(os.path.join(IMAGES, "rgb_300x200.jpg"), quality=90)
    scene(97, 131).convert("L").save(os.path.join(IMAGES, "grey_97x131.jpg"), quality=92)
    scene(150, 120).convert("CMYK").save(os.path.join(IMAGES, "cmyk_150x120.jpg"), quality=95)
    scene(180, 100).save(os.path.join(IMAGES, "rgb_180x100_420.jpg"), quality=80, subsampling=2)
    rgba = scene(120, 90).convert("RGBA")
    rgba.putalpha(Image.fromarray((np.arange(120 * 90).reshape(90, 120) % 256).astype(np.uint8)))
    rgba.save(os.path.join(IMAGES, "rgba_120x90.png"))
    scene(100, 140).convert("P", palette=Image.ADAPTIVE, colors=32).save(os.path.join(IMAGES, "palette_100x140.png"))
    la = scene(64, 48).convert("LA")
    la.save(os.path.join(IMAGES, "grey_alpha_64x48.png"))
    scene(40, 30).save(os.path.join(IMAGES, "rgb_small_40x30.png"))
    # EXIF orientation 6 (rotate 90 CW to display): stored 160x90, shown 90x160.
    exif = Image.Exif()
    exif[0x0112] = 6
    scene(160, 90).save(os.path.join(IMAGES, "exif_rot6_160x90.jpg"), quality=90, exif=exif.tobytes())
    exif[0x0112] = 3
    scene(70, 50).save(os.path.join(IMAGES, "exif_rot3_70x50.png"), exif=exif.tobytes())
    # 16-bit grey PNG: PIL clips I;16 when converting; dinoprobe scales (a documented difference).
    ramp = (np.arange(32 * 16).reshape(16, 32) * 128).astype(np.uint16)
    Image.fromarray(ramp).save(os.path.join(IMAGES, "grey16_32x16.png"))
    return specs


def make_preprocess_fixture():
    processor = DINOv3ViTImageProcessor()
    tensors = {}
    for name in sorted(os.listdir(IMAGES)):
        if name.startswith("grey16"):
            continue
        image = load_image(os.path.join(IMAGES, name))
        for size in (224, 64) if name == "rgb_300x200.jpg" else (64,):
            out = processor(images=image, size={"height": size, "width": size}, return_tensors="pt")
            tensors[f"{name}@{size}"] = out["pixel_values"][0].contiguous()
        # The decoded RGB (what convert("RGB") gives), for decoder checks.
        tensors[f"{name}@rgb"] = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy())
    save_file(tensors, os.path.join(ROOT, "preprocess.safetensors"),
              metadata={"transformers": __import__("transformers").__version__})
    print("preprocess:", len(tensors), "tensors")


def main():
    torch.manual_seed(0)
    m = make_model("gelu_reg4", 1, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                   num_attention_heads=3, num_register_tokens=4)
    run_case("gelu_reg4_224", m, 224, 224)
    run_case("gelu_reg4_nonsquare_b2", m, 96, 160, batch=2, seed=1)
    run_case("gelu_reg4_512", m, 512, 512, seed=7)  # 1,029 tokens: attention over several tiles of keys
    m = make_model("gated_silu", 2, hidden_size=48, intermediate_size=64, num_hidden_layers=2,
                   num_attention_heads=4, num_register_tokens=4, use_gated_mlp=True, hidden_act="silu")
    run_case("gated_silu_64", m, 64, 64, seed=2)
    m = make_model("noqv_hd128_f16", 3, dtype=torch.float16, hidden_size=128, intermediate_size=64,
                   num_hidden_layers=1, num_attention_heads=1, num_register_tokens=4,
                   query_bias=False, value_bias=False, key_bias=False, proj_bias=False)
    run_case("noqv_hd128_f16_48x80", m, 48, 80, seed=3)
    m = make_model("reg0", 4, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                   num_attention_heads=2, num_register_tokens=0)
    run_case("reg0_64", m, 64, 64, seed=4)
    m = make_model("bf16", 5, dtype=torch.bfloat16, hidden_size=48, intermediate_size=96,
                   num_hidden_layers=2, num_attention_heads=3, num_register_tokens=4)
    run_case("bf16_64", m, 64, 64, seed=5)
    m = make_model("sharded", 6, shard="60KB", hidden_size=48, intermediate_size=96,
                   num_hidden_layers=3, num_attention_heads=3, num_register_tokens=2, key_bias=True)
    run_case("sharded_64x32", m, 64, 32, seed=6)
    make_images()
    make_preprocess_fixture()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print(f"fixtures: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    sys.exit(main())
