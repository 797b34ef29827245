"""Writes into Tests/TrainingTests/Fixtures/ files in the formats dinoprobe wrote before the feature
stores became one container, so the tests show that what is already in users' caches is still read:
- old-feature-cache-v1.safetensors: a feature-cache entry (`dinoprobe-feature-cache-v1`: cls and
  mean_patch [N, blocks, D], source_index [N], skipped as [index, path, reason]);
- old-patch-store-v1.safetensors: a dense patch store (`dinoprobe-patch-store-v1`: patch_tokens F16
  [N, h, w, D], labels U8 [N, H, W] (class or 255), metadata resolution, flip, skipped [index, path, reason]).
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

views, grid, width, size = 2, 2, 3, 4  # one image and its mirror (flip); input 1 of 2 skipped
tokens = (np.arange(views * grid * grid * width, dtype=np.float32).reshape(views, grid, grid, width) / 4 - 2).astype(np.float16)
labels = np.array([[0, 1, 2, 255]] * size * views, dtype=np.uint8).reshape(views, size, size)
save_file({"patch_tokens": tokens, "labels": labels}, os.path.join(here, "old-patch-store-v1.safetensors"),
          metadata={"format": "dinoprobe-patch-store-v1", "backbone_fingerprint": "fp", "resolution": str(size), "flip": "true",
                    "skipped": json.dumps([["1", "/d/b.jpg", "no mask"]])})
