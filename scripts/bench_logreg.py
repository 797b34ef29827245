#!/usr/bin/env python3
"""The scikit-learn side of the logistic-regression benchmark (scripts/bench --logreg): Meta's
protocol as dinov3/eval/log_regression.py runs it on CPU, LogisticRegression(solver="lbfgs",
C=C, tol=1e-12, max_iter=1000) in float64 for each of C = 10^linspace(-6, 5, 45) (float32, as
torch makes them), each from zero, on train less the hold-out; the C with the best hold-out top-1
(the first best) refitted on all of train. The rows and the hold-out come from the file written
by `dinoprobe bench logreg --data-out`, so both sides fit the same problem. Prints JSON."""
import argparse
import json
import time
import warnings

import numpy as np
import sklearn
from safetensors.numpy import load_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="safetensors file from dinoprobe bench logreg --data-out")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    tensors = load_file(args.data)
    x = tensors["features"].astype(np.float64)
    y = tensors["labels"]
    held = tensors["holdout"]
    keep = np.setdiff1d(np.arange(len(y)), held)
    cs = (10 ** np.linspace(-6, 5, 45, dtype=np.float32)).astype(np.float32).tolist()
    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(args.threads):
        blas = [f"{i['internal_api']} {i.get('architecture')} x{i['num_threads']}" for i in threadpool_info()]
        start = time.perf_counter()
        accuracy, iterations = [], []
        for c in cs:
            model = LogisticRegression(solver="lbfgs", C=c, tol=1e-12, max_iter=1000).fit(x[keep], y[keep])
            accuracy.append(float((model.predict_proba(x[held]).argmax(1) == y[held]).mean()))
            iterations.append(int(model.n_iter_[0]))
        path_seconds = time.perf_counter() - start
        best = int(np.argmax(accuracy))
        refit = LogisticRegression(solver="lbfgs", C=cs[best], tol=1e-12, max_iter=1000).fit(x, y)
        seconds = time.perf_counter() - start
    print(json.dumps({"sklearn": sklearn.__version__, "blas": blas, "threads": args.threads,
                      "logreg_seconds": seconds, "logreg_path_seconds": path_seconds, "logreg_refit_seconds": seconds - path_seconds,
                      "chosen_C": cs[best], "best_index": best, "iterations": iterations, "holdout_top1": accuracy,
                      "refit_iterations": int(refit.n_iter_[0])}))


if __name__ == "__main__":
    main()
