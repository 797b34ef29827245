#!/usr/bin/env python3
"""Loads a folder written by `dinoprobe convert` with transformers and checks it:
- config.json through AutoConfig (transformers' strict field types: an int field refuses `true`, a
  float field refuses `1`), each raw JSON value of the type its to_dict() gives;
- the weights through AutoModel, whose loader must match every key (missing, unexpected,
  mismatched: all empty);
- with --pth, the outputs against a model given the published conversion of that .pth
  (transformers' convert_dinov3_vit_to_hf.py mapping, restated in make_pth_fixtures.py);
- with --original, every tensor against that Hugging Face checkpoint (bit-exact) and the features.

    PY=$(bash scripts/reference-python)
    dinoprobe convert Tests/BackboneTests/Fixtures/pth/dinov3_gelu_reg4.pth --out /tmp/converted
    $PY scripts/check_converted.py /tmp/converted --pth Tests/BackboneTests/Fixtures/pth/dinov3_gelu_reg4.pth \
        --original Tests/BackboneTests/Fixtures/models/gelu_reg4
"""
import argparse
import json
import os
import sys
import tempfile

import torch
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModel, DINOv3ViTModel
from transformers.utils import logging

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_pth_fixtures import published_conversion  # noqa: E402


def check_types(folder, config):
    """Each value of config.json has the JSON type transformers' to_dict() gives the field."""
    with open(os.path.join(folder, "config.json")) as f:
        raw = json.load(f)
    expected = config.to_dict()
    wrong = {k: (type(v).__name__, type(expected[k]).__name__) for k, v in raw.items()
             if k in expected and expected[k] is not None and type(v) is not type(expected[k])}
    print(f"config.json: {len(raw)} fields, types as transformers': {not wrong} {wrong or ''}")
    return not wrong


def max_diff(a, b, pixels):
    with torch.inference_mode():
        return (a(pixel_values=pixels).last_hidden_state - b(pixel_values=pixels).last_hidden_state).abs().max().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--pth", help="the Meta checkpoint the folder was converted from")
    parser.add_argument("--original", help="the Hugging Face checkpoint the .pth was made from")
    args = parser.parse_args()
    logging.set_verbosity_warning()
    config = AutoConfig.from_pretrained(args.folder)
    print(f"AutoConfig: {type(config).__name__}, registers {config.num_register_tokens}, layers {config.num_hidden_layers}, heads {config.num_attention_heads}")
    ok = check_types(args.folder, config)
    model, info = AutoModel.from_pretrained(args.folder, dtype=torch.float32, output_loading_info=True)
    model.eval()
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        print(f"{kind}: {sorted(info.get(kind, []))}")
    if any(info.values()) or not isinstance(model, DINOv3ViTModel):
        print(f"FAIL: AutoModel gave {type(model).__name__} or did not match every key")
        return 1
    print(f"AutoModel: {type(model).__name__}, all {len(model.state_dict())} keys matched")
    pixels = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    if args.pth:
        # The published conversion of the .pth, saved with the folder's config and loaded by transformers.
        state = {k: v.float().contiguous() for k, v in published_conversion(torch.load(args.pth, map_location="cpu", weights_only=True)).items()}
        with tempfile.TemporaryDirectory() as published:
            config.save_pretrained(published)
            save_file(state, os.path.join(published, "model.safetensors"), metadata={"format": "pt"})
            reference, info = DINOv3ViTModel.from_pretrained(published, dtype=torch.float32, output_loading_info=True)
        assert not any(v for k, v in info.items() if k != "missing_keys") and all("register_tokens" in k for k in info["missing_keys"]), info
        reference.eval()
        diff = max_diff(model, reference, pixels)
        print(f"outputs vs the published conversion of {os.path.basename(args.pth)}: max abs diff {diff:.2e}")
        ok = ok and diff <= 1e-5
    if args.original:
        original = DINOv3ViTModel.from_pretrained(args.original, dtype=torch.float32).eval()
        for key, value in original.state_dict().items():
            assert torch.equal(value, model.state_dict()[key]), f"{key} differs"
        diff = max_diff(model, original, pixels)
        print(f"every tensor equals the original's; features max abs diff {diff:.2e}")
        ok = ok and diff <= 1e-4
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
