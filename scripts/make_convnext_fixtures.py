#!/usr/bin/env python3
"""Parity fixtures of DINOv3 ConvNeXts: random tiny `transformers` DINOv3ConvNextModels of two
sizes (real architecture, weights of realistic scale) and their outputs, under
Tests/BackboneTests/Fixtures. Not run by CI; rerun by hand:

    PY=$(bash scripts/reference-python) && $PY scripts/make_convnext_fixtures.py

Each case stores its pixel input (F16 values, so both sides read identical numbers),
`last_hidden_state` ([pooled, stage-4 map] after the final norm), `pooler_output` and the stage
maps: `hidden_states` with output_hidden_states=True holds the input itself then each stage's raw
NCHW output; `stage_<i>` is hidden_states[i + 1] flattened, every `stage_step`-th value (1: all;
larger cases are sampled to keep the files small), with the full shapes in `stage_shapes`.
"""
import json
import os
import shutil
import sys

import torch
from make_fixtures import randomise  # layer scales near 1 (not the 1e-6 init), so every block matters
from safetensors.torch import save_file
from transformers import DINOv3ConvNextConfig, DINOv3ConvNextModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "BackboneTests", "Fixtures")


def make_model(name, seed, dtype=torch.float32, **cfg):
    model = DINOv3ConvNextModel(DINOv3ConvNextConfig(**cfg)).eval()
    randomise(model, seed)
    folder = os.path.join(ROOT, "models", name)
    shutil.rmtree(folder, ignore_errors=True)
    model.to(dtype).save_pretrained(folder, safe_serialization=True)
    loaded, info = DINOv3ConvNextModel.from_pretrained(folder, dtype=torch.float32, output_loading_info=True)
    assert not any(info.values()), info
    return loaded.eval()


def run_case(case, model, height, width, batch=1, seed=0, stage_step=1):
    g = torch.Generator().manual_seed(2000 + seed)
    pixels = torch.randn(batch, 3, height, width, generator=g).to(torch.float16)
    with torch.inference_mode():
        out = model(pixel_values=pixels.float(), output_hidden_states=True)
        stages = out.hidden_states[1:]
        assert len(out.hidden_states) == 5 and torch.equal(out.hidden_states[0], pixels.float())
        normed = model.layer_norm(stages[-1].flatten(2).transpose(1, 2))
        assert torch.allclose(out.last_hidden_state[:, 1:], normed, atol=1e-6)
    tensors = {"pixel_values": pixels.contiguous(), "last_hidden_state": out.last_hidden_state.clone(),
               "pooler_output": out.pooler_output.clone()}
    for i, stage in enumerate(stages):
        tensors[f"stage_{i}"] = stage.flatten()[::stage_step].clone()
    save_file(tensors, os.path.join(ROOT, "cases", case + ".safetensors"),
              metadata={"model": model.name_or_path.split("/")[-1], "height": str(height), "width": str(width),
                        "stage_step": str(stage_step), "stage_shapes": json.dumps([list(s.shape) for s in stages])})
    print(f"{case}: tokens {tuple(out.last_hidden_state.shape)}, stages {[tuple(s.shape) for s in stages]} every {stage_step}")


def main():
    a = make_model("convnext_a", 21, hidden_sizes=[16, 24, 32, 48], depths=[1, 1, 2, 1])
    run_case("convnext_a_64", a, 64, 64)
    run_case("convnext_a_96x160_b2", a, 96, 160, batch=2, seed=1, stage_step=11)
    b = make_model("convnext_b_bf16", 22, dtype=torch.bfloat16, hidden_sizes=[8, 16, 32, 64], depths=[2, 1, 1, 2])
    run_case("convnext_b_bf16_128", b, 128, 128, seed=2, stage_step=11)


if __name__ == "__main__":
    sys.exit(main())
