#!/usr/bin/env python3
"""Generates Tests/HeadsTests/Fixtures/logreg.json, the scikit-learn reference for the
logistic-regression protocol (Heads/Probing/LogisticRegression*.swift). Not run by CI; rerun by
hand (deterministic, seeded):

    PY=$(bash scripts/reference-python) && $PY scripts/make_logreg_fixtures.py

It holds:
- meta_c_values_f32_bits: Meta's grid exactly as dinov3/eval/log_regression.py makes it,
  (10 ** torch.linspace(-6, 5, 45))[i].item(), as the bit patterns of those float32 values
  (exact, whatever JSON parser reads them).
- cases: two small data sets (features rounded to float32, as dinoprobe's features are): 160 x 16
  with 4 overlapping classes of unequal noise across dimensions (multinomial) and 80 x 8 with 2
  (sklearn's binomial model); features as float32 bit patterns. For each, fits of
  LogisticRegression(solver="lbfgs", C=C, tol=1e-12, max_iter=1000) in float64 at a few C from
  1e-6 to 1e5, each from zero: coefficients, intercepts, predict_proba on the training rows,
  n_iter_ and the objective mean(CE) + ||W||^2 / (2 C n). Every fit must have converged (n_iter_
  below max_iter). Each also holds "optimum": the same problem solved by Newton's method
  (solver="newton-cholesky", tol=1e-14), to gradients near 1e-14, since lbfgs stops on the relative
  reduction of f, some way from the optimum where the problem is ill-conditioned (about 1e-4
  relative in the coefficients at C = 1e5 here).
- rosenbrock: scipy's L-BFGS-B (as sklearn calls it: maxls 50, gtol 1e-12, ftol 64 eps) on the
  2-D Rosenbrock function from (-1.2, 1): the minimiser's own parity, iterations and evaluations.
- path: Meta's sweep on the multiclass case: a stratified 10% hold-out drawn as Meta's
  split_train_val_datasets draws it (per class: shuffled, max(1, int(0.1 * n_c)) held out), every
  C of the grid fitted from zero on the rest, hold-out top-1 of each, the chosen C (the first
  best, as Meta's MetricTracker keeps it) and the refit on all rows at that C.
"""
import json
import os
import warnings

import numpy as np
import scipy
import scipy.optimize
import sklearn
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "HeadsTests", "Fixtures")
MAX_ITER = 1000


def meta_c_values():
    return [c.item() for c in 10 ** torch.linspace(-6, 5, 45)]


def data(seed, n, d, k, spread):
    """Gaussian classes with noise scales from 0.1 to 5 across dimensions (so that the best C
    is neither extreme), rounded to float32."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(-1, 0.7, d)
    rng.shuffle(scales)
    centres = rng.normal(0, spread, (k, d))
    labels = rng.permutation(np.arange(n) % k)
    x = (centres[labels] + rng.normal(size=(n, d)) * scales).astype(np.float32)
    return x, labels


def fit(x, y, c):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LogisticRegression(solver="lbfgs", C=c, tol=1e-12, max_iter=MAX_ITER).fit(x.astype(np.float64), y)
    assert model.n_iter_[0] < MAX_ITER, f"C={c}: sklearn did not converge"
    return model


def objective(model, x, y, c):
    x = x.astype(np.float64)
    p = model.predict_proba(x)
    ce = -np.log(p[np.arange(len(y)), y]).mean()
    return ce + (model.coef_ ** 2).sum() / (2 * c * len(y))


def fit_record(model, x, y, c):
    exact = LogisticRegression(solver="newton-cholesky", C=c, tol=1e-14, max_iter=1000).fit(x.astype(np.float64), y)
    return {"C": c, "coef": model.coef_.tolist(), "intercept": model.intercept_.tolist(),
            "proba": model.predict_proba(x.astype(np.float64)).tolist(), "n_iter": int(model.n_iter_[0]),
            "objective": objective(model, x, y, c),
            "optimum": {"coef": exact.coef_.tolist(), "intercept": exact.intercept_.tolist()}}


def f32_bits(values):
    return np.asarray(values, dtype=np.float32).view(np.uint32).tolist()


def case(name, seed, n, d, k, spread, cs):
    x, y = data(seed, n, d, k, spread)
    return x, y, {"name": name, "count": n, "dim": d, "classes": k,
                  "features_f32_bits": f32_bits(x.ravel()), "labels": y.tolist(),
                  "fits": [fit_record(fit(x, y, c), x, y, c) for c in cs]}


def holdout_split(y, fraction, seed):
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        n = max(1, int(fraction * len(members))) if len(members) > 1 else 0
        held += members[:n].tolist()
    return sorted(held)


def path(x, y, cs):
    held = holdout_split(y, 0.1, seed=5)
    keep = np.setdiff1d(np.arange(len(y)), held)
    accuracies, iterations = [], []
    for c in cs:
        model = fit(x[keep], y[keep], c)
        accuracies.append(float((model.predict_proba(x[held].astype(np.float64)).argmax(1) == y[held]).mean()))
        iterations.append(int(model.n_iter_[0]))
    best = int(np.argmax(accuracies))  # the first best: the smallest C among ties
    refit = fit(x, y, cs[best])
    return {"case": "multiclass", "holdout": held, "accuracy": accuracies, "n_iter": iterations,
            "best_index": best, "best_C": cs[best], "refit": fit_record(refit, x, y, cs[best])}


def rosenbrock():
    x0 = [-1.2, 1.0]
    r = scipy.optimize.minimize(scipy.optimize.rosen, x0, jac=scipy.optimize.rosen_der, method="L-BFGS-B",
                                options={"maxiter": MAX_ITER, "maxls": 50, "gtol": 1e-12, "ftol": 64 * np.finfo(float).eps})
    return {"x0": x0, "x": r.x.tolist(), "fun": float(r.fun), "nit": int(r.nit), "nfev": int(r.nfev), "message": str(r.message)}


def main():
    cs = meta_c_values()
    x, y, multiclass = case("multiclass", seed=3, n=160, d=16, k=4, spread=0.3, cs=[1e-6, 1e-2, 1.0, 1e5])
    _, _, binary = case("binary", seed=4, n=80, d=8, k=2, spread=0.4, cs=[1e-6, 1e-2, 1.0, 1e5])
    out = {"versions": {"sklearn": sklearn.__version__, "scipy": scipy.__version__, "numpy": np.__version__,
                        "torch": torch.__version__},
           "meta_c_values_f32_bits": f32_bits(cs), "rosenbrock": rosenbrock(), "cases": [multiclass, binary], "path": path(x, y, cs)}
    os.makedirs(ROOT, exist_ok=True)
    with open(os.path.join(ROOT, "logreg.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {os.path.join(ROOT, 'logreg.json')}: chosen C {out['path']['best_C']:.4g}, "
          f"hold-out top-1 {max(out['path']['accuracy']):.3f}, fit iterations "
          f"{[r['n_iter'] for c in out['cases'] for r in c['fits']]}")


if __name__ == "__main__":
    main()
