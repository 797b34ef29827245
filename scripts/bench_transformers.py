#!/usr/bin/env python3
"""The reference side of scripts/bench: Hugging Face transformers' forward (DINOv3ViTModel or
DINOv3ConvNextModel, whichever the checkpoint's config names) at 224x224 on the same checkpoint,
same thread count, inference mode, warm-up excluded, median of repeats. Prints JSON."""
import argparse
import json
import statistics
import time

import torch
from transformers import AutoModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = AutoModel.from_pretrained(args.model, dtype=torch.float32).eval()
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "model": type(model).__name__,
              "attn_implementation": model.config._attn_implementation, "forward_images_per_s": {}}
    for b in [int(x) for x in args.batch_sizes.split(",")]:
        x = torch.randn(b, 3, 224, 224)
        with torch.inference_mode():
            model(pixel_values=x)
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                model(pixel_values=x)
                times.append(time.perf_counter() - t)
        result["forward_images_per_s"][str(b)] = b / statistics.median(times)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
