"""Video label propagation and DAVIS J&F references, on small generated inputs.

(a) DINO's label propagation (facebookresearch/dino, eval_video_segmentation.py: read_seg,
    to_one_hot, label_propagation, restrict_neighborhood, norm_mask and the loop of
    eval_video_tracking_davis), copied faithfully but on the CPU and on given features instead of
    a model's. Writes Tests/TrainingTests/Fixtures/propagation/: first.png (palette annotation),
    features.safetensors (per-frame patch tokens, the propagated soft labels on the patch grid and
    the final label maps at the original size) and case.json (the settings).
(b) davis2017-evaluation's J and F (davisvideochallenge/davis2017-evaluation, davis2017/metrics.py
    db_eval_iou, db_eval_boundary, f_measure, _seg2bmap; davis2017/utils.py db_statistics; the
    semi-supervised loop of davis2017/evaluation.py and the global figures of
    evaluation_method.py), `np.bool` spelt `bool` for current numpy. Writes
    Tests/TrainingTests/Fixtures/davis/{gt,pred}/SEQ/NNNNN.png and davis.json.
(c) read_frame's `cv2.resize` (INTER_LINEAR on 8-bit pixels) of a random image to a few sizes:
    Tests/TrainingTests/Fixtures/propagation/resize.safetensors.

    PY=$(bash scripts/reference-python) && $PY scripts/make_propagation_fixtures.py
"""
import json
import math
import os

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file
from skimage.morphology import disk

HERE = os.path.dirname(os.path.abspath(__file__))
PROP = os.path.join(HERE, "..", "Tests", "TrainingTests", "Fixtures", "propagation")
DAVIS = os.path.join(HERE, "..", "Tests", "TrainingTests", "Fixtures", "davis")

# ---------------------------------------------------------------- (a) DINO's label propagation


def restrict_neighborhood(h, w, size):
    mask = torch.zeros(h, w, h, w)
    for i in range(h):
        for j in range(w):
            for p in range(2 * size + 1):
                for q in range(2 * size + 1):
                    if i - size + p < 0 or i - size + p >= h:
                        continue
                    if j - size + q < 0 or j - size + q >= w:
                        continue
                    mask[i, j, i - size + p, j - size + q] = 1
    return mask.reshape(h * w, h * w)


def norm_mask(mask):
    c, h, w = mask.size()
    for cnt in range(c):
        mask_cnt = mask[cnt, :, :]
        if mask_cnt.max() > 0:
            mask_cnt = mask_cnt - mask_cnt.min()
            mask_cnt = mask_cnt / mask_cnt.max()
            mask[cnt, :, :] = mask_cnt
    return mask


def label_propagation(args, feat_tar, h, w, list_frame_feats, list_segs, mask_neighborhood=None):
    return_feat_tar = feat_tar.T
    ncontext = len(list_frame_feats)
    feat_sources = torch.stack(list_frame_feats)
    feat_tar = F.normalize(feat_tar, dim=1, p=2)
    feat_sources = F.normalize(feat_sources, dim=1, p=2)
    feat_tar = feat_tar.unsqueeze(0).repeat(ncontext, 1, 1)
    aff = torch.exp(torch.bmm(feat_tar, feat_sources) / 0.1)
    if args["size_mask_neighborhood"] > 0:
        if mask_neighborhood is None:
            mask_neighborhood = restrict_neighborhood(h, w, args["size_mask_neighborhood"])
            mask_neighborhood = mask_neighborhood.unsqueeze(0).repeat(ncontext, 1, 1)
        aff *= mask_neighborhood
    aff = aff.transpose(2, 1).reshape(-1, h * w)
    tk_val, _ = torch.topk(aff, dim=0, k=args["topk"])
    tk_val_min, _ = torch.min(tk_val, dim=0)
    aff[aff < tk_val_min] = 0
    aff = aff / torch.sum(aff, keepdim=True, axis=0)
    segs = torch.cat(list_segs)
    nmb_context, C, h, w = segs.shape
    segs = segs.reshape(nmb_context, C, -1).transpose(2, 1).reshape(-1, C).T
    seg_tar = torch.mm(segs, aff)
    seg_tar = seg_tar.reshape(1, C, h, w)
    return seg_tar, return_feat_tar, mask_neighborhood


def to_one_hot(y_tensor, n_dims=None):
    if n_dims is None:
        n_dims = int(y_tensor.max() + 1)
    _, h, w = y_tensor.size()
    y_tensor = y_tensor.type(torch.LongTensor).view(-1, 1)
    y_one_hot = torch.zeros(y_tensor.size()[0], n_dims).scatter_(1, y_tensor, 1)
    y_one_hot = y_one_hot.view(h, w, n_dims)
    return y_one_hot.permute(2, 0, 1).unsqueeze(0)


def read_seg(seg_dir, factor, scale_size):
    seg = Image.open(seg_dir)
    _w, _h = seg.size
    if _w > _h:
        _th = scale_size[0]
        _tw = (_th * _w) / _h
        _tw = int((_tw // 64) * 64)
    else:
        _tw = scale_size[0]
        _th = (_tw * _h) / _w
        _th = int((_th // 64) * 64)
    small_seg = np.array(seg.resize((_tw // factor, _th // factor), 0))
    small_seg = torch.from_numpy(small_seg.copy()).contiguous().float().unsqueeze(0)
    return to_one_hot(small_seg), np.asarray(seg)


def track(args, feats, h, w, first_seg, ori_h, ori_w, patch):
    """eval_video_tracking_davis on given features: the queue, propagation, upsampling, argmax, resize."""
    que = []
    frame1_feat = feats[0].T
    mask_neighborhood = None
    soft, maps = [], []
    for cnt in range(1, len(feats)):
        used_frame_feats = [frame1_feat] + [pair[0] for pair in que]
        used_segs = [first_seg] + [pair[1] for pair in que]
        frame_tar_avg, feat_tar, mask_neighborhood = label_propagation(args, feats[cnt], h, w, used_frame_feats, used_segs,
                                                                       mask_neighborhood)
        if len(que) == args["n_last_frames"]:
            que.pop(0)
        que.append([feat_tar, frame_tar_avg.clone()])
        soft.append(frame_tar_avg[0].clone())
        frame_tar_avg = F.interpolate(frame_tar_avg, scale_factor=patch, mode="bilinear", align_corners=False,
                                      recompute_scale_factor=False)[0]
        frame_tar_avg = norm_mask(frame_tar_avg)
        _, frame_tar_seg = torch.max(frame_tar_avg, dim=0)
        frame_tar_seg = np.array(frame_tar_seg.squeeze().cpu(), dtype=np.uint8)
        maps.append(np.array(Image.fromarray(frame_tar_seg).resize((ori_w, ori_h), 0)))
    return torch.stack(soft), np.stack(maps)


def propagation_case():
    g = torch.Generator().manual_seed(0)
    ori_w, ori_h, scale, patch, dim, frames = 200, 110, 128, 16, 24, 7
    args = {"n_last_frames": 2, "size_mask_neighborhood": 3, "topk": 4}
    # Annotation: background 0 and objects 1..3 as rectangles, in a palette PNG.
    ann = np.zeros((ori_h, ori_w), dtype=np.uint8)
    ann[10:60, 20:90] = 1
    ann[50:100, 110:180] = 2
    ann[20:45, 140:190] = 3
    palette = np.array([[0, 0, 0], [200, 30, 40], [20, 180, 60], [250, 220, 10]], dtype=np.uint8)
    im = Image.fromarray(ann)
    im.putpalette(palette.ravel())
    os.makedirs(PROP, exist_ok=True)
    path = os.path.join(PROP, "first.png")
    im.save(path, format="PNG")
    first_seg, _ = read_seg(path, patch, [scale])
    _, c, h, w = first_seg.shape
    # Features: a smooth random field per frame drifting over time, plus noise (float32).
    base = torch.randn(dim, h + frames, w + frames, generator=g)
    feats = []
    for t in range(frames):
        f = base[:, t // 2:t // 2 + h, t // 3:t // 3 + w] + 0.6 * torch.randn(dim, h, w, generator=g)
        feats.append(f.reshape(dim, h * w).T.contiguous())
    soft, maps = track(args, feats, h, w, first_seg, ori_h, ori_w, patch)
    save_file({"features": torch.stack(feats), "first_one_hot": first_seg[0].contiguous(), "soft": soft.contiguous(),
               "maps": torch.from_numpy(maps.astype(np.uint8))}, os.path.join(PROP, "features.safetensors"))
    case = {"scale_size": scale, "patch": patch, "grid": [h, w], "classes": c, "context": args["n_last_frames"],
            "radius": args["size_mask_neighborhood"], "topk": args["topk"], "width": ori_w, "height": ori_h}
    with open(os.path.join(PROP, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
    print("propagation:", case, "labels per frame", [np.bincount(m.ravel(), minlength=c).tolist() for m in maps])


# ---------------------------------------------------------------- (b) davis2017-evaluation's J and F


def db_eval_iou(annotation, segmentation, void_pixels=None):
    annotation = annotation.astype(bool)
    segmentation = segmentation.astype(bool)
    if void_pixels is not None:
        void_pixels = void_pixels.astype(bool)
    else:
        void_pixels = np.zeros_like(segmentation)
    inters = np.sum((segmentation & annotation) & np.logical_not(void_pixels), axis=(-2, -1))
    union = np.sum((segmentation | annotation) & np.logical_not(void_pixels), axis=(-2, -1))
    j = inters / union
    if j.ndim == 0:
        j = 1 if np.isclose(union, 0) else j
    else:
        j[np.isclose(union, 0)] = 1
    return j


def db_eval_boundary(annotation, segmentation, void_pixels=None, bound_th=0.008):
    n_frames = annotation.shape[0]
    f_res = np.zeros(n_frames)
    for frame_id in range(n_frames):
        void_pixels_frame = None if void_pixels is None else void_pixels[frame_id, :, :, ]
        f_res[frame_id] = f_measure(segmentation[frame_id, :, :, ], annotation[frame_id, :, :], void_pixels_frame,
                                    bound_th=bound_th)
    return f_res


def f_measure(foreground_mask, gt_mask, void_pixels=None, bound_th=0.008):
    if void_pixels is not None:
        void_pixels = void_pixels.astype(bool)
    else:
        void_pixels = np.zeros_like(foreground_mask).astype(bool)
    bound_pix = bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(foreground_mask.shape))
    fg_boundary = _seg2bmap(foreground_mask * np.logical_not(void_pixels))
    gt_boundary = _seg2bmap(gt_mask * np.logical_not(void_pixels))
    fg_dil = cv2.dilate(fg_boundary.astype(np.uint8), disk(bound_pix).astype(np.uint8))
    gt_dil = cv2.dilate(gt_boundary.astype(np.uint8), disk(bound_pix).astype(np.uint8))
    gt_match = gt_boundary * fg_dil
    fg_match = fg_boundary * gt_dil
    n_fg = np.sum(fg_boundary)
    n_gt = np.sum(gt_boundary)
    if n_fg == 0 and n_gt > 0:
        precision, recall = 1, 0
    elif n_fg > 0 and n_gt == 0:
        precision, recall = 0, 1
    elif n_fg == 0 and n_gt == 0:
        precision, recall = 1, 1
    else:
        precision = np.sum(fg_match) / float(n_fg)
        recall = np.sum(gt_match) / float(n_gt)
    if precision + recall == 0:
        return 0
    return 2 * precision * recall / (precision + recall)


def _seg2bmap(seg):
    seg = seg.astype(bool)
    seg[seg > 0] = 1
    e = np.zeros_like(seg)
    s = np.zeros_like(seg)
    se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = seg ^ e | seg ^ s | seg ^ se
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = 0
    return b


def db_statistics(per_frame_values):
    M = np.nanmean(per_frame_values)
    O = np.nanmean(per_frame_values > 0.5)
    N_bins = 4
    ids = np.round(np.linspace(1, len(per_frame_values), N_bins + 1) + 1e-10) - 1
    ids = ids.astype(np.uint8)
    D_bins = [per_frame_values[ids[i]:ids[i + 1] + 1] for i in range(0, 4)]
    D = np.nanmean(D_bins[0]) - np.nanmean(D_bins[3])
    return M, O, D


def separate(masks, num_objects):
    tmp = np.ones((num_objects, *masks.shape)) * np.arange(1, num_objects + 1)[:, None, None, None]
    return tmp == masks[None, ...]


def evaluate_sequence(gt, pred):
    """DAVISEvaluation.evaluate for one semi-supervised sequence: frames 1..n-2, objects 1..max(first gt)."""
    gt = gt.astype(np.float64)
    gt[gt == 255] = 0
    num_objects = int(np.max(gt[0]))
    all_gt = separate(gt, num_objects)[:, 1:-1]
    all_res = separate(pred[1:-1].astype(np.float64), num_objects)
    out = []
    for ii in range(num_objects):
        j = db_eval_iou(all_gt[ii], all_res[ii], all_gt[ii] == 255)
        f = db_eval_boundary(all_gt[ii], all_res[ii], all_gt[ii] == 255)
        out.append({"J": j.tolist(), "F": f.tolist(), "J_stats": list(map(float, db_statistics(j))),
                    "F_stats": list(map(float, db_statistics(f)))})
    return out


def blob_frames(rng, n, h, w, objects):
    """n label maps: moving ellipses (object ids 1..objects), later ones drawn over earlier ones."""
    yy, xx = np.mgrid[0:h, 0:w]
    params = [(rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w, rng.uniform(0.1, 0.3) * h, rng.uniform(0.1, 0.3) * w,
               rng.uniform(-2, 2), rng.uniform(-3, 3)) for _ in range(objects)]
    frames = np.zeros((n, h, w), dtype=np.uint8)
    for t in range(n):
        for k, (cy, cx, ry, rx, vy, vx) in enumerate(params):
            inside = ((yy - cy - vy * t) / ry) ** 2 + ((xx - cx - vx * t) / rx) ** 2 <= 1
            frames[t][inside] = k + 1
    return frames


def write_png(path, labels):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im = Image.fromarray(labels)
    im.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [0] * (3 * 252))
    im.save(path, format="PNG")


def davis_case():
    rng = np.random.default_rng(0)
    sequences = {"alpha": (7, 120, 160, 2), "beta": (9, 150, 260, 3), "gamma": (3, 64, 64, 1)}
    result = {}
    j_means, f_means, j_recalls, j_decays, f_recalls, f_decays = [], [], [], [], [], []
    for name, (n, h, w, objects) in sequences.items():
        gt = blob_frames(rng, n, h, w, objects)
        gt[:, :2, :] = np.where(gt[:, :2, :] > 0, 255, 0)  # a void band: 255 counts as background
        pred = gt.copy()
        pred[pred == 255] = 0
        for t in range(n):  # errors: shifted rows, flipped noise blocks, one object lost
            pred[t] = np.roll(pred[t], int(rng.integers(-4, 5)), axis=1)
            for _ in range(6):
                y, x = int(rng.integers(0, h - 8)), int(rng.integers(0, w - 8))
                pred[t, y:y + 8, x:x + 8] = int(rng.integers(0, objects + 1))
        if objects > 1:
            pred[n // 2][pred[n // 2] == 2] = 0
        for t in range(n):
            write_png(os.path.join(DAVIS, "gt", name, f"{t:05d}.png"), gt[t])
            write_png(os.path.join(DAVIS, "pred", name, f"{t:05d}.png"), pred[t])
        objs = evaluate_sequence(gt, pred)
        result[name] = objs
        for o in objs:
            j_means.append(o["J_stats"][0]); j_recalls.append(o["J_stats"][1]); j_decays.append(o["J_stats"][2])
            f_means.append(o["F_stats"][0]); f_recalls.append(o["F_stats"][1]); f_decays.append(o["F_stats"][2])
    glob = {"J&F-Mean": (np.mean(j_means) + np.mean(f_means)) / 2, "J-Mean": np.mean(j_means), "J-Recall": np.mean(j_recalls),
            "J-Decay": np.mean(j_decays), "F-Mean": np.mean(f_means), "F-Recall": np.mean(f_recalls), "F-Decay": np.mean(f_decays)}
    with open(os.path.join(DAVIS, "davis.json"), "w") as f:
        json.dump({"sequences": result, "global": {k: float(v) for k, v in glob.items()}}, f, indent=1)
    print("davis:", {k: round(float(v), 6) for k, v in glob.items()})


def resize_case():
    """read_frame's cv2.resize (INTER_LINEAR, 8-bit) on a random RGB image to a few sizes."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (43, 61, 3), dtype=np.uint8)
    tensors = {"image": torch.from_numpy(image)}
    for tw, th in [(64, 64), (32, 20), (128, 90), (61, 43), (17, 59)]:
        tensors[f"{tw}x{th}"] = torch.from_numpy(cv2.resize(image, (tw, th)))
    save_file(tensors, os.path.join(PROP, "resize.safetensors"))
    print("resize: cv2", cv2.__version__, sorted(tensors))


if __name__ == "__main__":
    propagation_case()
    davis_case()
    resize_case()
