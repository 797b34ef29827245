#!/usr/bin/env python3
"""Generates the depth head's parity fixtures under Tests/TrainingTests/Fixtures with PyTorch
running faithful copies of Meta's modules (facebookresearch/dinov3, dinov3/eval/depth:
models/linear_head.py LinearHead, models/__init__.py FeaturesToDepth, loss.py SigLoss,
schedulers.py WarmupOneCycleLR, train.py's step: clip_grad_norm_ then AdamW). Not run by CI;
rerun by hand (deterministic, seeded):

    PY=$(bash scripts/reference-python) && $PY scripts/make_depth_fixtures.py

Files (channels-last layouts as the Swift head uses them):
- depth.safetensors: per case `<bins>_<norm>` (bins linear|log, norm linear|softmax|sigmoid), the
  head's parameters, the features [B, h, w, C] and targets [B, H, W] (0 = no depth); the
  training-mode depth grid [B, h, w], the upsampled prediction [B, H, W], the SigLoss with
  (`warm.*`) and without (`full.*`) its warm-up and the parameter gradients of each; the running
  statistics after one training forward; the eval-mode depth grid; the parameters after three
  optimizer steps (AdamW lr/beta1 from WarmupOneCycleLR(total 6, warm-up 2), clipping at half
  the first step's gradient norm so that it is active). The schedule's lr and beta1 at Meta's
  config-nyu steps (`schedule.*`).
- depth_head.safetensors: a state dict of Meta's LinearHead (use_batchnorm, 16 bins, C 6) made
  by PyTorch, with dinoprobe's metadata, and depth_head_expected.safetensors: its eval-mode
  depths; depth_state_dict.json: the names, shapes and dtypes of LinearHead.state_dict().
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TrainingTests", "Fixtures")
B, C, h, w, BINS, H, W = 2, 6, 3, 4, 16, 7, 9
MIN_DEPTH, MAX_DEPTH = 0.001, 10.0


class LinearHead(nn.Module):
    """Meta's LinearHead (linear_head.py) with use_batchnorm=True, use_cls_token=False, one
    feature map: SyncBatchNorm (BatchNorm2d here, the same outside distributed training), then
    the 1x1 conv_depth initialised N(0, 0.01), bias 0."""

    def __init__(self, channels, n_output_channels):
        super().__init__()
        self.batchnorm_layer = nn.BatchNorm2d(channels)
        self.conv_depth = nn.Conv2d(channels, n_output_channels, kernel_size=1, padding=0, stride=1)
        nn.init.normal_(self.conv_depth.weight, mean=0, std=0.01)
        nn.init.constant_(self.conv_depth.bias, 0)

    def forward(self, x):
        return self.conv_depth(self.batchnorm_layer(x))


def features_to_depth(x, bins_strategy, norm_strategy, min_depth=MIN_DEPTH, max_depth=MAX_DEPTH):
    """Meta's FeaturesToDepth.forward (models/__init__.py) for n_bins > 1."""
    n_bins = x.shape[1]
    if bins_strategy == "linear":
        bins = torch.linspace(min_depth, max_depth, n_bins, device=x.device)
    else:
        bins = torch.linspace(torch.log(torch.tensor(min_depth)), torch.log(torch.tensor(max_depth)), n_bins, device=x.device)
        bins = torch.exp(bins)
    if norm_strategy == "linear":
        logit = torch.relu(x)
        eps = 0.1
        logit = logit + eps
        logit = logit / logit.sum(dim=1, keepdim=True)
    elif norm_strategy == "softmax":
        logit = torch.softmax(x, dim=1)
    else:
        logit = torch.sigmoid(x)
        logit = logit / logit.sum(dim=1, keepdim=True)
    return torch.einsum("ikmn,k->imn", [logit, bins]).unsqueeze(dim=1)


class SigLoss(nn.Module):
    """Meta's SigLoss (loss.py), warm_up=True, warm_iter=100."""

    def __init__(self, warm_up=True, warm_iter=100):
        super().__init__()
        self.eps = 0.001
        self.warm_up = warm_up
        self.warm_iter = warm_iter
        self.warm_up_counter = 0

    def forward(self, input, target, valid_mask=None):
        if valid_mask is None:
            valid_mask = torch.ones_like(target, dtype=bool)
        input = input[valid_mask]
        target = target[valid_mask]
        g = torch.log(input + self.eps) - torch.log(target + self.eps)
        Dg = 0.15 * torch.pow(torch.mean(g), 2)
        if self.warm_up and self.warm_up_counter < self.warm_iter:
            self.warm_up_counter += 1
        else:
            Dg += torch.var(g)
        if Dg <= 0:
            return torch.abs(Dg)
        return torch.sqrt(Dg)


def annealing_cos(start, end, pct):
    cos_out = math.cos(math.pi * pct) + 1
    return end + (start - end) / 2.0 * cos_out


class WarmupOneCycleLR(torch.optim.lr_scheduler.LRScheduler):
    """Meta's WarmupOneCycleLR (schedulers.py) with warmup_ratio 0, cosine annealing, use_beta1."""

    def __init__(self, optimizer, total_steps, warmup_iters, max_lr, div_factor=25.0, final_div_factor=1000.0,
                 base_momentum=0.85, max_momentum=0.95):
        self.warmup_iters, self.total_steps = warmup_iters, total_steps
        self.base_momentum, self.max_momentum, self.final_div_factor = base_momentum, max_momentum, final_div_factor
        for group in optimizer.param_groups:
            group["initial_lr"] = max_lr / div_factor
            group["max_lr"] = max_lr
            group["min_lr"] = group["initial_lr"] / final_div_factor
            group["lr"] = max_lr / final_div_factor if warmup_iters > 0 else group["initial_lr"]
            group["betas"] = (max_momentum, *group["betas"][1:])
        super().__init__(optimizer, -1)

    def _compute_lr_momentum(self, group):
        step_num = (self._step_count - 1) if self.last_epoch != -1 else 0
        momentum = 0
        if step_num < self.warmup_iters:
            gmax = group["max_lr"] * (1 + math.cos(math.pi * step_num / float(self.total_steps))) / 2
            thelr = group["max_lr"] / self.final_div_factor + gmax * step_num / float(self.warmup_iters)
        else:
            pct = (step_num - self.warmup_iters) / float(self.total_steps - self.warmup_iters)
            momentum = annealing_cos(self.base_momentum, self.max_momentum, pct)
            thelr = annealing_cos(group["max_lr"], group["min_lr"], (step_num + 1) / float(self.total_steps))
        return thelr, momentum

    def get_lr(self):
        lrs = []
        for group in self.optimizer.param_groups:
            lr, momentum = self._compute_lr_momentum(group)
            lrs.append(lr)
            group["betas"] = (momentum, *group["betas"][1:])
        return lrs


def last(x):
    """[B, C, h, w] -> channels-last [B, h, w, C] (a single channel is dropped)."""
    y = x.permute(0, 2, 3, 1).contiguous()
    return y[..., 0].contiguous() if y.shape[-1] == 1 else y


def make_head(g):
    head = LinearHead(C, BINS)
    with torch.no_grad():
        head.conv_depth.weight.normal_(0, 0.3, generator=g)
        head.conv_depth.bias.normal_(0, 0.1, generator=g)
        head.batchnorm_layer.weight.copy_(1 + 0.2 * torch.randn(C, generator=g))
        head.batchnorm_layer.bias.copy_(0.2 * torch.randn(C, generator=g))
        head.batchnorm_layer.running_mean.copy_(0.1 * torch.randn(C, generator=g))
        head.batchnorm_layer.running_var.copy_(1 + 0.3 * torch.rand(C, generator=g))
    return head


def params(prefix, head, out):
    out[prefix + "conv_depth.weight"] = head.conv_depth.weight.detach()[:, :, 0, 0].clone()
    out[prefix + "conv_depth.bias"] = head.conv_depth.bias.detach().clone()
    for name in ["weight", "bias", "running_mean", "running_var"]:
        out[prefix + "batchnorm_layer." + name] = getattr(head.batchnorm_layer, name).detach().clone()


def step_loss(head, x, gt, loss, bins, norm):
    pred = features_to_depth(head(x), bins, norm)
    up = F.interpolate(pred, size=gt.shape[2:], mode="bilinear", align_corners=False)
    return pred, up, loss(up, gt, gt != 0)


def case(out, bins, norm, g):
    name = f"{bins}_{norm}"
    head = make_head(g)
    x = 0.3 + torch.randn(B, C, h, w, generator=g)
    gt = 0.5 + 8.5 * torch.rand(B, 1, H, W, generator=g)
    gt[torch.rand(B, 1, H, W, generator=g) < 0.15] = 0
    params(f"{name}.init.", head, out)
    out[f"{name}.features"], out[f"{name}.targets"] = last(x), last(gt)
    for mode, counter in [("warm", 0), ("full", 100)]:
        trial = make_head(torch.Generator())
        trial.load_state_dict(head.state_dict())
        trial.train()
        loss = SigLoss()
        loss.warm_up_counter = counter
        pred, up, value = step_loss(trial, x, gt, loss, bins, norm)
        value.backward()
        out[f"{name}.{mode}.loss"] = value.detach().reshape(1)
        out[f"{name}.{mode}.grid"], out[f"{name}.{mode}.pred"] = last(pred.detach()), last(up.detach())
        for p, t in trial.named_parameters():
            out[f"{name}.{mode}.grad.{p}"] = (t.grad[:, :, 0, 0] if t.grad.dim() == 4 else t.grad).clone()
        if mode == "full":
            out[f"{name}.running_mean"] = trial.batchnorm_layer.running_mean.detach().clone()
            out[f"{name}.running_var"] = trial.batchnorm_layer.running_var.detach().clone()
    head.eval()
    with torch.no_grad():
        out[f"{name}.eval.grid"] = last(features_to_depth(head(x), bins, norm))
    train_steps(out, name, head, x, gt, bins, norm)


def train_steps(out, name, head, x, gt, bins, norm):
    """Three steps of train.py's loop: forward, SigLoss, backward, clip_grad_norm_, AdamW, schedule."""
    head.train()
    opt = torch.optim.AdamW([{"params": head.parameters(), "lr": 3e-4, "betas": (0.9, 0.99), "weight_decay": 1e-4}])
    scheduler = WarmupOneCycleLR(opt, total_steps=6, warmup_iters=2, max_lr=3e-4)
    loss, clip = SigLoss(), None
    for step in range(3):
        opt.zero_grad(set_to_none=True)
        _, _, value = step_loss(head, x, gt, loss, bins, norm)
        value.backward()
        norm_before = torch.nn.utils.clip_grad_norm_(list(head.parameters()), clip if clip else 1e9)
        if clip is None:
            clip = 0.5 * float(norm_before)  # clips from the first step on
            torch.nn.utils.clip_grad_norm_(list(head.parameters()), clip)
        opt.step()
        scheduler.step()
    out[f"{name}.clip"] = torch.tensor([clip])
    params(f"{name}.stepped.", head, out)
    out[f"{name}.stepped.batchnorm_layer.num_batches_tracked"] = head.batchnorm_layer.num_batches_tracked.float().reshape(1)


def schedule(out):
    steps = [0, 1, 2, 100, 6399, 12799, 12800, 12801, 20000, 30000, 38399]
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=3e-4, betas=(0.9, 0.99), weight_decay=1e-4)
    sched = WarmupOneCycleLR(opt, total_steps=38400, warmup_iters=12800, max_lr=3e-4)
    lrs, betas = [], []
    for step in range(steps[-1] + 1):
        if step in steps:
            lrs.append(opt.param_groups[0]["lr"])
            betas.append(opt.param_groups[0]["betas"][0])
        sched.step()
    out["schedule.steps"] = torch.tensor(steps, dtype=torch.float64)
    out["schedule.lr"] = torch.tensor(lrs, dtype=torch.float64)
    out["schedule.beta1"] = torch.tensor(betas, dtype=torch.float64)


def saved_head(g):
    head = make_head(g)
    head.train()
    head(torch.randn(B, C, h, w, generator=g))  # num_batches_tracked 1, as a trained head has
    head.eval()
    recipe = {"bins": BINS, "minDepth": MIN_DEPTH, "maxDepth": MAX_DEPTH, "binsStrategy": "log", "normStrategy": "linear"}
    meta = {"format": "dinoprobe-head", "format_version": "1", "kind": "depth", "class_names": "[]",
            "extra": json.dumps({"depth_recipe": json.dumps(recipe)})}
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, os.path.join(ROOT, "depth_head.safetensors"), metadata=meta)
    listing = [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for k, v in head.state_dict().items()]
    with open(os.path.join(ROOT, "depth_state_dict.json"), "w") as f:
        json.dump({"channels": C, "bins": BINS, "tensors": listing}, f, indent=1)
    x = torch.randn(B, C, h, w, generator=g)
    with torch.no_grad():
        depth = features_to_depth(head(x), "log", "linear")
    save_file({"features": last(x), "depth": last(depth)}, os.path.join(ROOT, "depth_head_expected.safetensors"))


def main():
    os.makedirs(ROOT, exist_ok=True)
    g = torch.Generator().manual_seed(29)
    out = {}
    for bins in ["linear", "log"]:
        for norm in ["linear", "softmax", "sigmoid"]:
            case(out, bins, norm, g)
    schedule(out)
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(ROOT, "depth.safetensors"),
              metadata={"torch": torch.__version__})
    saved_head(g)


if __name__ == "__main__":
    main()
