"""The reference way to rank a database for retrieval (revisitop's example_evaluate.py, DINO's
eval_image_retrieval.py): the whole similarity matrix, then the full argsort, in NumPy. Same
shapes as `dinoprobe bench retrieval` (70 queries, 1,000,000 x 384 rows; the rows are random,
made before the clock starts). Prints the time and the peak resident memory.

    PY=$(bash scripts/reference-python) && $PY scripts/bench_retrieval.py
"""
import argparse
import resource
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=1_000_000)
parser.add_argument("--dim", type=int, default=384)
parser.add_argument("--queries", type=int, default=70)
args = parser.parse_args()

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(args.rows, args.dim)).astype(np.float32)
Q = rng.uniform(-1, 1, size=(args.queries, args.dim)).astype(np.float32)
start = time.time()
sim = X @ Q.T
ranks = np.argsort(-sim, axis=0)
seconds = time.time() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"numpy: sim + argsort of {args.queries} queries x {args.rows} x {args.dim}: {seconds:.2f} s, peak resident memory {peak:.0f} MiB")
