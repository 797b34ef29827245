#!/usr/bin/env python3
"""Generates the reference fixtures under Tests/HeadsTests/Fixtures with PyTorch and
scikit-learn. Not run by CI; rerun by hand (deterministic, seeded):

    PY=$(bash scripts/reference-python) && $PY scripts/make_head_fixtures.py

Files (all safetensors, channels-last layouts as the Swift heads use them):
- upsample.safetensors: F.interpolate(mode="bilinear", align_corners=False) cases, up and down,
  odd sizes and non-integer scales. Case `c` has `c.input` [B, h, w, C] and `c.output`
  [B, H, W, C]; the 14x14 -> 224x224 case keeps only the rows/columns listed in its metadata
  (plus the full per-channel sums) to stay small.
- segmenter_head.safetensors + segmenter_expected.safetensors: a Dropout2d -> BatchNorm2d ->
  1x1 Conv2d head in PyTorch (training mode, a fixed dropout channel mask), its loss after
  bilinear upsampling and cross-entropy with ignore index 255, all gradients, the updated
  running statistics, and eval-mode predictions.
- classifier_head.safetensors + classifier_expected.safetensors: an nn.Linear state dict saved
  by safetensors.torch with dinoprobe metadata, and its logits on a few features.
- optimizers.safetensors: torch.optim.SGD / AdamW trajectories over 3 steps.
- probe.safetensors: overlapping Gaussian clusters (D=64, 10 classes, 1200 train + 400 val,
  stored F16; the classifier below saw the same F16-rounded values) and, in the metadata, the
  validation accuracy of scikit-learn LogisticRegression with C tuned on validation.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file, load_file
from sklearn.linear_model import LogisticRegression

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "HeadsTests", "Fixtures")
torch.manual_seed(0)


def head_metadata(kind, classes, **extra):
    meta = {
        "format": "dinoprobe-head",
        "format_version": "1",
        "kind": kind,
        "feature_recipe": "patch|blocks=1|preset=hf|size=112" if kind == "segmenter" else "cls+avgpool|blocks=1|preset=hf|size=224",
        "backbone_id": "facebook/dinov3-vits16-pretrain-lvd1689m",
        "backbone_fingerprint": "0123456789abcdef",
        "class_names": json.dumps([f"class{i}" for i in range(classes)]),
        "extra": json.dumps({"written_by": "make_head_fixtures.py"}),
    }
    meta.update(extra)
    return meta


def upsample_cases():
    g = torch.Generator().manual_seed(1)
    tensors, meta = {}, {}
    cases = [
        ("up_5x7_13x11", 2, 3, (5, 7), (13, 11)),
        ("down_7x9_4x5", 2, 3, (7, 9), (4, 5)),
        ("mixed_4x4_17x3", 1, 2, (4, 4), (17, 3)),
        ("edge_1x3_4x6", 1, 2, (1, 3), (4, 6)),
        ("same_6x6_6x6", 1, 2, (6, 6), (6, 6)),
        ("big_14x14_224x224", 1, 2, (14, 14), (224, 224)),
    ]
    names = []
    for name, b, c, (h, w), (oh, ow) in cases:
        x = torch.randn(b, c, h, w, generator=g)
        y = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False)
        tensors[f"{name}.input"] = x.permute(0, 2, 3, 1).contiguous()
        if name.startswith("big"):
            keep = sorted(set(list(range(0, oh, 5)) + [oh - 1]))
            idx = torch.tensor(keep)
            sub = y[:, :, idx][:, :, :, idx]
            tensors[f"{name}.output"] = sub.permute(0, 2, 3, 1).contiguous()
            meta[f"{name}.rows"] = json.dumps(keep)
            meta[f"{name}.sums"] = json.dumps([float(y[:, ch].double().sum()) for ch in range(c)])
        else:
            tensors[f"{name}.output"] = y.permute(0, 2, 3, 1).contiguous()
        meta[f"{name}.size"] = json.dumps([b, c, h, w, oh, ow])
        names.append(name)
    meta["cases"] = json.dumps(names)
    save_file(tensors, os.path.join(ROOT, "upsample.safetensors"), metadata=meta)


class Segmenter(nn.Module):
    """The DINOv3 linear segmentation head (docs/protocols.md, section 5)."""

    def __init__(self, dim, classes):
        super().__init__()
        self.dropout = nn.Dropout2d(0.1)
        self.bn = nn.BatchNorm2d(dim)
        self.conv = nn.Conv2d(dim, classes, 1)


def segmenter_case():
    g = torch.Generator().manual_seed(2)
    B, h, w, D, K, H, W = 2, 3, 4, 5, 3, 7, 9
    head = Segmenter(D, K)
    with torch.no_grad():
        head.conv.weight.copy_(0.5 * torch.randn(K, D, 1, 1, generator=g))
        head.conv.bias.copy_(0.1 * torch.randn(K, generator=g))
        head.bn.weight.copy_(1 + 0.2 * torch.randn(D, generator=g))
        head.bn.bias.copy_(0.1 * torch.randn(D, generator=g))
        head.bn.running_mean.copy_(0.1 * torch.randn(D, generator=g))
        head.bn.running_var.copy_(1 + 0.3 * torch.rand(D, generator=g))
        head.bn.num_batches_tracked.fill_(7)
    meta = head_metadata("segmenter", K, palette=json.dumps([0, 0, 0, 255, 0, 0, 0, 255, 0]),
                         input_resolution="112")
    state = {k: v.clone().contiguous() for k, v in head.state_dict().items()}
    save_file(state, os.path.join(ROOT, "segmenter_head.safetensors"), metadata=meta)

    feats = (torch.randn(B, h, w, D, generator=g) * 2 + 0.5)
    mask = (torch.rand(B, D, generator=g) > 0.3).float() / 0.9
    labels = torch.randint(0, K, (B, H, W), generator=g)
    labels[torch.rand(B, H, W, generator=g) < 0.2] = 255

    x = feats.permute(0, 3, 1, 2).contiguous().requires_grad_(True)
    head.train()
    xd = x * mask[:, :, None, None]  # Dropout2d with a fixed channel mask
    logits = head.conv(head.bn(xd))
    up = F.interpolate(logits, size=(H, W), mode="bilinear", align_corners=False)
    loss = F.cross_entropy(up, labels, ignore_index=255)
    loss.backward()

    head.eval()
    with torch.no_grad():
        eval_up = F.interpolate(head.conv(head.bn(x)), size=(H, W), mode="bilinear", align_corners=False)
    expected = {
        "features": feats.contiguous(),
        "mask": mask.contiguous(),
        "labels": labels.to(torch.uint8).contiguous(),
        "loss": loss.detach().reshape(1),
        "grad.conv.weight": head.conv.weight.grad.reshape(K, D).contiguous(),
        "grad.conv.bias": head.conv.bias.grad.contiguous(),
        "grad.bn.weight": head.bn.weight.grad.contiguous(),
        "grad.bn.bias": head.bn.bias.grad.contiguous(),
        "grad.features": x.grad.permute(0, 2, 3, 1).contiguous(),
        "running_mean": head.bn.running_mean.clone(),
        "running_var": head.bn.running_var.clone(),
        "eval.logits": eval_up.permute(0, 2, 3, 1).contiguous(),
        "eval.predictions": eval_up.argmax(1).to(torch.uint8).contiguous(),
    }
    save_file(expected, os.path.join(ROOT, "segmenter_expected.safetensors"),
              metadata={"size": json.dumps([B, h, w, D, K, H, W])})


def classifier_case():
    g = torch.Generator().manual_seed(3)
    D, K, n = 6, 4, 5
    lin = nn.Linear(D, K)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(K, D, generator=g))
        lin.bias.copy_(torch.randn(K, generator=g))
    save_file({k: v.contiguous() for k, v in lin.state_dict().items()},
              os.path.join(ROOT, "classifier_head.safetensors"), metadata=head_metadata("classifier", K))
    x = torch.randn(n, D, generator=g)
    with torch.no_grad():
        save_file({"features": x, "logits": lin(x)}, os.path.join(ROOT, "classifier_expected.safetensors"))


def optimizer_case():
    g = torch.Generator().manual_seed(4)
    p0 = torch.randn(6, generator=g)
    grads = torch.randn(3, 6, generator=g)
    step_lr = torch.tensor([1.0, 0.7, 0.4])  # multiplies each group's base lr per step
    bases = [0.1, 0.01]  # segment 0 = p[0:3], segment 1 = p[3:6]
    out = {"params0": p0, "grads": grads, "step_factor": step_lr, "bases": torch.tensor(bases)}
    configs = {
        "sgd": lambda groups: torch.optim.SGD(groups, lr=1, momentum=0.9),
        "sgd_nesterov_wd": lambda groups: torch.optim.SGD(groups, lr=1, momentum=0.9, nesterov=True, weight_decay=0.05),
        "adamw": lambda groups: torch.optim.AdamW(groups, lr=1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
        "adamw_wd": lambda groups: torch.optim.AdamW(groups, lr=1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.5),
    }
    for name, make in configs.items():
        a = p0[:3].clone().requires_grad_(True)
        b = p0[3:].clone().requires_grad_(True)
        opt = make([{"params": [a], "lr": bases[0]}, {"params": [b], "lr": bases[1]}])
        traj = []
        for t in range(3):
            for group, base in zip(opt.param_groups, bases):
                group["lr"] = base * float(step_lr[t])
            a.grad = grads[t, :3].clone()
            b.grad = grads[t, 3:].clone()
            opt.step()
            traj.append(torch.cat([a.detach(), b.detach()]))
        out[name] = torch.stack(traj)
    save_file(out, os.path.join(ROOT, "optimizers.safetensors"))


def probe_case():
    rng = np.random.default_rng(5)
    D, K, n_train, n_val = 64, 10, 1200, 400
    means = rng.normal(0, 0.32, size=(K, D))
    def draw(n):
        y = rng.integers(0, K, size=n)
        x = means[y] + rng.normal(0, 1, size=(n, D))
        return x.astype(np.float16).astype(np.float32), y
    xtr, ytr = draw(n_train)
    xva, yva = draw(n_val)
    best = (-1.0, None)
    for c in [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 10.0]:
        clf = LogisticRegression(C=c, max_iter=5000).fit(xtr, ytr)
        acc = float((clf.predict(xva) == yva).mean())
        print(f"  C={c:g}: val top-1 {acc:.4f}")
        if acc > best[0]:
            best = (acc, c)
    print(f"probe: sklearn best val top-1 {best[0]:.4f} at C={best[1]:g}")
    save_file({
        "train.features": torch.from_numpy(xtr).half(), "train.labels": torch.from_numpy(ytr).long(),
        "val.features": torch.from_numpy(xva).half(), "val.labels": torch.from_numpy(yva).long(),
    }, os.path.join(ROOT, "probe.safetensors"),
        metadata={"sklearn_val_accuracy": f"{best[0]:.6f}", "sklearn_C": f"{best[1]:g}",
                  "classes": str(K), "dim": str(D)})


if __name__ == "__main__":
    os.makedirs(ROOT, exist_ok=True)
    upsample_cases()
    segmenter_case()
    classifier_case()
    optimizer_case()
    probe_case()
    for f in os.listdir(ROOT):
        os.chmod(os.path.join(ROOT, f), 0o644)
    total = sum(os.path.getsize(os.path.join(ROOT, f)) for f in os.listdir(ROOT))
    print(f"wrote {ROOT} ({total / 1024:.0f} KiB)")
