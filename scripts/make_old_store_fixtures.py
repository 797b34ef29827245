"""Writes Tests/TrainingTests/Fixtures/old-feature-cache-v1.safetensors: a feature-cache entry in the
format dinoprobe wrote before the feature stores became one container (`dinoprobe-feature-cache-v1`:
cls and mean_patch [N, blocks, D], source_index [N], skipped as [index, path, reason]), so the tests
show that entries already in users' caches are still read.
Run: $(bash scripts/reference-python) scripts/make_old_store_fixtures.py"""
import json
import os

import numpy as np
from safetensors.numpy import save_file

here = os.path.join(os.path.dirname(__file__), "..", "Tests", "TrainingTests", "Fixtures")
rows, blocks, dim = 2, 2, 3  # inputs 0 and 2 of 3; input 1 skipped
cls = np.arange(rows * blocks * dim, dtype=np.float32).reshape(rows, blocks, dim) / 8
mean_patch = -cls
save_file({"cls": cls, "mean_patch": mean_patch, "source_index": np.array([0, 2], dtype=np.int64)},
          os.path.join(here, "old-feature-cache-v1.safetensors"),
          metadata={"format": "dinoprobe-feature-cache-v1", "backbone_fingerprint": "fp", "inputs": "3", "views": "1",
                    "skipped": json.dumps([["1", "/d/b.jpg", "unreadable"]])})
