#!/usr/bin/env python3
"""Loads a folder written by `dinoprobe convert` with transformers and reports what its loader
says about the keys (missing, unexpected, mismatched: all must be empty); with --original, also
checks every tensor against that Hugging Face checkpoint (bit-exact) and the features (1e-4).

    PY=$(bash scripts/reference-python)
    dinoprobe convert Tests/BackboneTests/Fixtures/pth/dinov3_gelu_reg4.pth --out /tmp/converted
    $PY scripts/check_converted.py /tmp/converted --original Tests/BackboneTests/Fixtures/models/gelu_reg4
"""
import argparse
import sys

import torch
from transformers import DINOv3ViTModel
from transformers.utils import logging


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--original", help="the Hugging Face checkpoint the .pth was made from")
    args = parser.parse_args()
    logging.set_verbosity_warning()
    model, info = DINOv3ViTModel.from_pretrained(args.folder, dtype=torch.float32, output_loading_info=True)
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        print(f"{kind}: {sorted(info.get(kind, []))}")
    problems = {k: v for k, v in info.items() if v}
    if problems:
        print("FAIL: transformers did not match every key")
        return 1
    print(f"all {len(model.state_dict())} keys matched")
    if args.original:
        original = DINOv3ViTModel.from_pretrained(args.original, dtype=torch.float32).eval()
        for key, value in original.state_dict().items():
            assert torch.equal(value, model.state_dict()[key]), f"{key} differs"
        pixels = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            diff = (model.eval()(pixel_values=pixels).last_hidden_state - original(pixel_values=pixels).last_hidden_state).abs().max().item()
        assert diff <= 1e-4, diff
        print(f"every tensor equals the original's; features max abs diff {diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
