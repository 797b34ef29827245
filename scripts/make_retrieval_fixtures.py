"""revisitop's evaluation (Radenovic et al. 2018, github.com/filipradenovic/revisitop,
python/evaluate.py and python/example_evaluate.py) on a small random retrieval problem, for the
Swift parity test. Features take values in {-1, -0.5, 0, 0.5, 1} so that every inner product is
exact in float32 and many scores tie (across the test's database blocks too); the ranking is
`np.argsort(-sim, axis=0, kind="stable")` (equal scores: lower database index first, dinoprobe's
tie rule). Some queries have no hard positives (left out of the Hard means), junk is interleaved
with the positives. Writes Tests/TrainingTests/Fixtures/retrieval.json.

    PY=$(bash scripts/reference-python) && $PY scripts/make_retrieval_fixtures.py
"""
import json
import os
import pickle

import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TrainingTests", "Fixtures")


# numpy 2 removed np.in1d; np.isin is its documented replacement (same result for 1-D input).
in1d = getattr(np, "in1d", np.isin)


# compute_ap and compute_map: a faithful copy of revisitop's python/evaluate.py (MIT licence),
# np.in1d spelled in1d (above).
def compute_ap(ranks, nres):
    nimgranks = len(ranks)
    ap = 0
    recall_step = 1. / nres
    for j in np.arange(nimgranks):
        rank = ranks[j]
        if rank == 0:
            precision_0 = 1.
        else:
            precision_0 = float(j) / rank
        precision_1 = float(j + 1) / (rank + 1)
        ap += (precision_0 + precision_1) * recall_step / 2.
    return ap


def compute_map(ranks, gnd, kappas=[]):
    map = 0.
    nq = len(gnd)
    aps = np.zeros(nq)
    pr = np.zeros(len(kappas))
    prs = np.zeros((nq, len(kappas)))
    nempty = 0
    for i in np.arange(nq):
        qgnd = gnd[i]['ok']
        if qgnd.shape[0] == 0:
            aps[i] = float('nan')
            prs[i, :] = float('nan')
            nempty += 1
            continue
        try:
            qgndj = gnd[i]['junk']
        except:
            qgndj = np.empty(0)
        pos = np.arange(ranks.shape[0])[in1d(ranks[:, i], qgnd)]
        junk = np.arange(ranks.shape[0])[in1d(ranks[:, i], qgndj)]
        k = 0
        ij = 0
        if len(junk):
            ip = 0
            while (ip < len(pos)):
                while (ij < len(junk) and pos[ip] > junk[ij]):
                    k += 1
                    ij += 1
                pos[ip] = pos[ip] - k
                ip += 1
        ap = compute_ap(pos, len(qgnd))
        map = map + ap
        aps[i] = ap
        pos += 1
        for j in np.arange(len(kappas)):
            kq = min(max(pos), kappas[j])
            prs[i, j] = (pos <= kq).sum() / kq
        pr = pr + prs[i, :]
    map = map / (nq - nempty)
    pr = pr / (nq - nempty)
    return map, aps, pr, prs


def setups(gnd):
    """example_evaluate.py's Easy, Medium and Hard ground truths."""
    cat = lambda *lists: np.concatenate([np.array(l, dtype=np.int64) for l in lists])
    return {
        "E": [{"ok": cat(g["easy"]), "junk": cat(g["junk"], g["hard"])} for g in gnd],
        "M": [{"ok": cat(g["easy"], g["hard"]), "junk": cat(g["junk"])} for g in gnd],
        "H": [{"ok": cat(g["hard"]), "junk": cat(g["junk"], g["easy"])} for g in gnd],
    }


def main():
    rng = np.random.default_rng(30)
    n, nq, d = 60, 7, 4
    X = (rng.integers(-2, 3, size=(n, d)) / 2).astype(np.float32)
    Q = (rng.integers(-2, 3, size=(nq, d)) / 2).astype(np.float32)
    sim = X @ Q.T
    ranks = np.argsort(-sim, axis=0, kind="stable")
    gnd = []
    for i in range(nq):
        chosen = rng.permutation(n)[:18]
        easy, hard, junk = chosen[:6], chosen[6:10], chosen[10:14]
        if i in (2, 5):
            hard = chosen[:0]
        if i == 4:
            easy, hard = chosen[:0], chosen[:0]
        gnd.append({"easy": easy.tolist(), "hard": hard.tolist(), "junk": junk.tolist()})
    out = {"dim": d, "database": X.ravel().tolist(), "queries": Q.ravel().tolist(), "gnd": gnd,
           "ranks": ranks.T.tolist(), "results": {}}
    for name, g in setups(gnd).items():
        m, aps, pr, prs = compute_map(ranks, g, [1, 5, 10])
        nan = lambda v: None if np.isnan(v) else float(v)
        out["results"][name] = {"map": float(m), "aps": [nan(a) for a in aps], "pr": pr.tolist(),
                                "prs": [None if np.isnan(r).any() else r.tolist() for r in prs]}
    # GeM (cirtorch's gem: avg_pool2d(x.clamp(min=eps).pow(p), size).pow(1/p), p = 3, eps = 1e-6)
    # of 12 patch tokens (a 3 x 4 grid) of width 5, some negative.
    import torch
    tokens = torch.from_numpy(rng.normal(size=(12, 5)).astype(np.float32))
    grid = tokens.T.reshape(1, 5, 3, 4)
    gem = torch.nn.functional.avg_pool2d(grid.clamp(min=1e-6).pow(3), (3, 4)).pow(1. / 3).reshape(5)
    out["gem"] = {"tokens": tokens.ravel().tolist(), "out": gem.tolist()}
    os.makedirs(ROOT, exist_ok=True)
    # A ground truth as revisitop's gnd_<name>.pkl holds one (plain lists, float boxes),
    # pickled with Python 3's default protocols of the last releases (3 and 4).
    plain = {"imlist": ["all_souls_000001", "ashmolean_000007", "x/../y"[:1]], "qimlist": ["all_souls_000013"],
             "gnd": [{"bbx": [136.5, 34.1, 648.5, 955.7], "easy": [0, 2], "hard": [1], "junk": []}]}
    for protocol in (3, 4):
        with open(os.path.join(ROOT, f"gnd_protocol{protocol}.pkl"), "wb") as f:
            pickle.dump(plain, f, protocol=protocol)
    with open(os.path.join(ROOT, "retrieval.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
