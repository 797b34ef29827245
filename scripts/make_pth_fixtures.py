#!/usr/bin/env python3
"""Meta-layout `.pth` fixtures (the DINOv3 repository's state dict names, saved with torch.save)
made from the committed tiny `transformers` models by the inverse of transformers' published
conversion (convert_dinov3_vit_to_hf.py). Not run by CI; rerun by hand:

    PY=$(bash scripts/reference-python) && $PY scripts/make_pth_fixtures.py [--meta-repo DINOV3_CLONE]

- pth/dinov3_gelu_reg4.pth: gelu_reg4 with RoPE periods computed in float32 as Meta's code does;
  its features are the committed case gelu_reg4_224 (transformers on the original).
- pth/dinov3_gated_silu.pth: gated_silu (SwiGLU) with bf16-rounded periods stored as bf16, as in
  Meta's releases, and a training-only local_cls_norm; its features (case gated_silu_meta_64) are
  transformers' with the stored periods in place of its own.

Checks made here: the published forward conversion, applied to each .pth, loads into
DINOv3ViTModel with strict=True and gives back every original tensor exactly; the bf16 periods
move the features by more than 1e-3 (so a test that ignores them fails); with --meta-repo, Meta's
own DinoVisionTransformer loads each .pth strictly and reproduces the expected features (1e-4).
"""
import argparse
import collections
import math
import os
import re
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import DINOv3ViTModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "BackboneTests", "Fixtures")
PTH = os.path.join(ROOT, "pth")


def meta_periods(config, bf16):
    """Meta's RopePositionEmbedding._init_weights with base = rope_theta, in float32."""
    head_dim = config.hidden_size // config.num_attention_heads
    periods = config.rope_theta ** (2 * torch.arange(head_dim // 4, dtype=torch.float32) / (head_dim // 2))
    return periods.to(torch.bfloat16) if bf16 else periods


def to_meta(hf, c, bf16_periods, local_cls_norm, seed):
    """The inverse of the published mapping: Meta's names, fused qkv, masked key bias.
    `hf` is the checkpoint's tensors as stored (model.safetensors names), `c` its config."""
    d = c.hidden_size
    g = torch.Generator().manual_seed(seed)
    meta = collections.OrderedDict()
    meta["cls_token"] = hf["embeddings.cls_token"]
    meta["storage_tokens"] = hf["embeddings.register_tokens"]
    meta["mask_token"] = hf["embeddings.mask_token"].reshape(1, d)
    meta["patch_embed.proj.weight"] = hf["embeddings.patch_embeddings.weight"]
    meta["patch_embed.proj.bias"] = hf["embeddings.patch_embeddings.bias"]
    meta["rope_embed.periods"] = meta_periods(c, bf16_periods)
    for i in range(c.num_hidden_layers):
        h, m = f"layer.{i}.", f"blocks.{i}."
        meta[m + "norm1.weight"] = hf[h + "norm1.weight"]
        meta[m + "norm1.bias"] = hf[h + "norm1.bias"]
        meta[m + "attn.qkv.weight"] = torch.cat([hf[h + f"attention.{p}_proj.weight"] for p in "qkv"])
        # Meta keeps a key bias that its mask zeroes: random values here, so the mask must be applied.
        garbage = torch.randn(d, generator=g)
        meta[m + "attn.qkv.bias"] = torch.cat([hf[h + "attention.q_proj.bias"], garbage, hf[h + "attention.v_proj.bias"]])
        meta[m + "attn.qkv.bias_mask"] = torch.cat([torch.ones(d), torch.zeros(d), torch.ones(d)])
        meta[m + "attn.proj.weight"] = hf[h + "attention.o_proj.weight"]
        meta[m + "attn.proj.bias"] = hf[h + "attention.o_proj.bias"]
        meta[m + "ls1.gamma"] = hf[h + "layer_scale1.lambda1"]
        meta[m + "norm2.weight"] = hf[h + "norm2.weight"]
        meta[m + "norm2.bias"] = hf[h + "norm2.bias"]
        names = (("w1", "gate_proj"), ("w2", "up_proj"), ("w3", "down_proj")) if c.use_gated_mlp else (("fc1", "up_proj"), ("fc2", "down_proj"))
        for ours, theirs in names:
            meta[m + f"mlp.{ours}.weight"] = hf[h + f"mlp.{theirs}.weight"]
            meta[m + f"mlp.{ours}.bias"] = hf[h + f"mlp.{theirs}.bias"]
        meta[m + "ls2.gamma"] = hf[h + "layer_scale2.lambda1"]
    meta["norm.weight"] = hf["norm.weight"]
    meta["norm.bias"] = hf["norm.bias"]
    if local_cls_norm:
        meta["local_cls_norm.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
        meta["local_cls_norm.bias"] = 0.1 * torch.randn(d, generator=g)
    meta = collections.OrderedDict((k, v.detach().clone().contiguous()) for k, v in meta.items())
    # What nn.Module.state_dict() attaches (pickled with BUILD).
    meta._metadata = collections.OrderedDict([("", {"version": 1}), ("patch_embed", {"version": 1}), ("blocks.0", {"version": 1})])
    return meta


# The published forward mapping (transformers' convert_dinov3_vit_to_hf.py), restated.
FORWARD = [
    (r"cls_token", "embeddings.cls_token"), (r"mask_token", "embeddings.mask_token"),
    (r"storage_tokens", "embeddings.register_tokens"), (r"patch_embed.proj", "embeddings.patch_embeddings"),
    (r"periods", "inv_freq"), (r"rope_embed", "rope_embeddings"),
    (r"blocks.(\d+).attn.proj", r"layer.\1.attention.o_proj"), (r"blocks.(\d+).attn.", r"layer.\1.attention."),
    (r"blocks.(\d+).ls(\d+).gamma", r"layer.\1.layer_scale\2.lambda1"), (r"blocks.(\d+).mlp.fc1", r"layer.\1.mlp.up_proj"),
    (r"blocks.(\d+).mlp.fc2", r"layer.\1.mlp.down_proj"), (r"blocks.(\d+).mlp", r"layer.\1.mlp"),
    (r"blocks.(\d+).norm", r"layer.\1.norm"), (r"w1", "gate_proj"), (r"w2", "up_proj"), (r"w3", "down_proj"),
]


def published_conversion(meta):
    state = dict(meta)
    for key in [k for k in state if "qkv" in k]:
        for part, name in zip(torch.chunk(state.pop(key), 3, dim=0), ("q_proj", "k_proj", "v_proj")):
            state[key.replace("qkv", name)] = part
    out = {}
    for key, value in state.items():
        new = key
        for pattern, replacement in FORWARD:
            new = re.sub(pattern, replacement, new)
        if "bias_mask" in key or "attn.k_proj.bias" in key or "local_cls_norm" in key or "inv_freq" in new:
            continue
        out[new] = value.unsqueeze(1) if new == "embeddings.mask_token" else value
    return out


def outputs(model, pixels):
    with torch.inference_mode():
        out = model(pixel_values=pixels.float(), output_hidden_states=True)
        layers = [model.norm(h) for h in out.hidden_states[-2:]]
    return {"pixel_values": pixels.contiguous(), "last_hidden_state": out.last_hidden_state.clone(),
            "pooler_output": out.pooler_output.clone(), "layer_minus_2": layers[0].clone(), "layer_minus_1": layers[1].clone()}


def meta_model(repo, config, gated, local_cls_norm):
    sys.path.insert(0, repo)
    from dinov3.models.vision_transformer import DinoVisionTransformer
    ratio = config.intermediate_size / config.hidden_size * (1.5 if gated else 1)
    return DinoVisionTransformer(
        img_size=224, patch_size=config.patch_size, pos_embed_rope_base=config.rope_theta,
        pos_embed_rope_normalize_coords="separate", pos_embed_rope_rescale_coords=2, pos_embed_rope_dtype="fp32",
        embed_dim=config.hidden_size, depth=config.num_hidden_layers, num_heads=config.num_attention_heads,
        ffn_ratio=ratio, qkv_bias=True, layerscale_init=1e-5, norm_layer="layernormbf16",
        ffn_layer="swiglu" if gated else "mlp", ffn_bias=True, proj_bias=True,
        n_storage_tokens=config.num_register_tokens, mask_k_bias=True,
        untie_global_and_local_cls_norm=local_cls_norm).eval()


def load_report(folder):
    """transformers' own load of a checkpoint folder, with its report of keys not matched."""
    model, info = DINOv3ViTModel.from_pretrained(folder, dtype=torch.float32, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    return model.eval(), problems


def make(name, case, bf16_periods, local_cls_norm, seed, repo, expected_case=None):
    folder = os.path.join(ROOT, "models", name)
    model, problems = load_report(folder)
    assert not problems, problems
    stored = load_file(os.path.join(folder, "model.safetensors"))
    meta = to_meta(stored, model.config, bf16_periods, local_cls_norm, seed)
    os.makedirs(PTH, exist_ok=True)
    path = os.path.join(PTH, f"dinov3_{name}.pth")
    torch.save(meta, path)
    loaded = torch.load(path, weights_only=True)
    back = published_conversion(loaded)
    assert back.keys() == stored.keys(), set(back) ^ set(stored)
    for key, value in stored.items():
        assert torch.equal(value, back[key]), key
    pixels = load_file(os.path.join(ROOT, "cases", case + ".safetensors"))["pixel_values"]
    expected = outputs(model, pixels)
    if expected_case:
        # transformers with Meta's stored periods: inv_freq = 1 / periods.
        model.rope_embeddings.inv_freq = 1 / meta["rope_embed.periods"].float()
        shifted = outputs(model, pixels)
        moved = (shifted["last_hidden_state"] - expected["last_hidden_state"]).abs().max().item()
        assert moved > 1e-3, f"bf16 periods move the features by only {moved}"
        print(f"{expected_case}: the stored periods move the features by {moved:.4f}")
        expected = shifted
        save_file(expected, os.path.join(ROOT, "cases", expected_case + ".safetensors"),
                  metadata={"model": f"dinov3_{name}.pth", "height": str(pixels.shape[2]), "width": str(pixels.shape[3])})
    if repo:
        meta_net = meta_model(repo, model.config, model.config.use_gated_mlp, local_cls_norm)
        meta_net.load_state_dict(loaded, strict=True)
        with torch.inference_mode():
            tokens = meta_net.get_intermediate_layers(pixels.float(), n=1, return_class_token=True, return_extra_tokens=True)[0]
        ours = torch.cat([tokens[1][:, None], tokens[2], tokens[0]], dim=1)
        diff = (ours - expected["last_hidden_state"]).abs().max().item()
        assert diff <= 1e-4, f"Meta's model differs by {diff}"
        print(f"{name}: Meta's DinoVisionTransformer matches the expected features (max abs diff {diff:.2e})")
    print(f"{path}: {len(meta)} tensors, {os.path.getsize(path)} bytes; the published conversion gives back every tensor")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--meta-repo", help="a clone of facebookresearch/dinov3, to check against Meta's own model")
    args = parser.parse_args()
    make("gelu_reg4", "gelu_reg4_224", bf16_periods=False, local_cls_norm=False, seed=11, repo=args.meta_repo)
    make("gated_silu", "gated_silu_64", bf16_periods=True, local_cls_norm=True, seed=12, repo=args.meta_repo,
         expected_case="gated_silu_meta_64")


if __name__ == "__main__":
    sys.exit(main())
