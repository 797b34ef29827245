#!/usr/bin/env python3
"""The JSON type of every field of transformers' DINOv3ViTConfig, as its to_dict() (what
save_pretrained writes) gives them, for the test that checks each config.json `dinoprobe convert`
writes (MetaCheckpointTests.testConvertedConfigsHaveTransformersTypes). transformers' config
classes check types strictly (an int field refuses `true`, a float field refuses `1`), so a
config.json is only loadable when each value has the type recorded here. Not run by CI; rerun by
hand after a transformers upgrade:

    PY=$(bash scripts/reference-python) && $PY scripts/make_config_types.py
"""
import json
import os

import transformers
from transformers import DINOv3ViTConfig

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "BackboneTests", "Fixtures", "dinov3_vit_config_types.json")


def json_type(value):
    """The JSON kind json.dumps gives a value: int and float kept apart, bool before int."""
    if value is None:
        return "null"
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "string"), (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    raise TypeError(f"{type(value)} has no JSON type")


def main():
    # 0 and 1 where the field allows it, so that a writer bridging 0/1 to booleans would show.
    config = DINOv3ViTConfig(num_register_tokens=1, num_hidden_layers=1, num_attention_heads=1, hidden_size=64,
                             architectures=["DINOv3ViTModel"])
    fields = config.to_dict()
    types = {key: json_type(value) for key, value in sorted(fields.items()) if not key.startswith("_")}
    assert types["num_register_tokens"] == "int" and types["layer_norm_eps"] == "float" and types["query_bias"] == "bool", types
    document = {"transformers_version": transformers.__version__, "types": types}
    with open(OUT, "w") as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)}: {len(types)} fields (transformers {transformers.__version__})")


if __name__ == "__main__":
    main()
