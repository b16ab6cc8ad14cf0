"""Benchmark of stages.xai.sidu: heatmaps/s against the forward-throughput bound and a straightforward loop.

SIDU needs N + 1 forward passes per image (N = channels of the explained layer), so with X the model's plain
forward throughput (images/s at batch ``--batch-size``) no implementation beats X / (N + 1) heatmaps/s
without skipping work. ``heatmaps_per_s`` is measured with dedup OFF so that it is comparable to that bound;
``heatmaps_per_s_dedup`` (identical binary grids run once) is reported beside it and can exceed the bound.
The reference is the straightforward port: one image at a time, all N upsampled masks built up front, masks
sent through the model in chunks of 50, float32, no dedup. Inputs are seeded random normal images and the
model is randomly initialised, so dedup figures depend on this synthetic data. The variants (plain
forward, ours, reference, ...) are timed in ``--repeats`` interleaved rounds and each keeps its best time,
so that load from other processes on a shared machine disturbs them alike (use 3 or more there).

    python bench/bench_sidu.py --device cpu --arch resnet18 --height 72 --width 96 --n-images 4 --batch-size 256
    python bench/bench_sidu.py --device cuda --arch resnet50 --channels 1 --height 288 --width 384 \
        --n-images 8 --batch-size 256 --autocast bf16
Prints one JSON dict.
"""
from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from stages.models.resnet import Regressor
from stages.xai.base import amp
from stages.xai.sidu import sidu


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device):
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - t0


def forward_batch(model, shape, batch_size, device, autocast, calls=3):
    """One plain forward at ``batch_size`` (channels_last on CUDA), ``calls`` times: returns the best time."""
    fmt = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    x = torch.randn(batch_size, *shape, device=device).contiguous(memory_format=fmt)
    with torch.no_grad(), amp(device, autocast):
        return None, min(timed(lambda: model(x), device)[1] for _ in range(calls))


def reference_sidu(model, images, layer, threshold, sigma, chunk=50):
    """Straightforward SIDU for a scalar-output model: loop over images, masks in chunks of ``chunk``."""
    heat = []
    with torch.no_grad():
        for x in images:
            x = x[None]
            feats = []
            hook = layer.register_forward_hook(lambda m, i, o: feats.append(o))
            p = model(x).float().reshape(-1)
            hook.remove()
            grids = (feats[0][0] > threshold).float()
            masks = F.interpolate(grids[:, None], size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
            pk = torch.cat([model(x * masks[i:i + chunk, None]).float().reshape(-1)
                            for i in range(0, len(masks), chunk)])
            sd = torch.exp(-(p - pk) ** 2 / (2 * sigma ** 2))
            u = (pk[:, None] - pk[None]).abs().sum(1)
            u = (u - u.min()) / (u.max() - u.min() + 1e-13)
            heat.append((torch.einsum("n,nhw->hw", sd * u, masks) / len(masks)).cpu())
    return torch.stack(heat)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--height", type=int, default=288)
    ap.add_argument("--width", type=int, default=384)
    ap.add_argument("--n-images", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--autocast", default="none", choices=["none", "bf16", "fp16"])
    ap.add_argument("--layer", default="layer4")
    ap.add_argument("--threshold", type=float, default=0.15)
    ap.add_argument("--sigma", type=float, default=0.5)
    ap.add_argument("--ref-images", type=int, default=None, help="images for the reference (default: all)")
    ap.add_argument("--no-dedup-run", action="store_true", help="skip the extra run with dedup on")
    ap.add_argument("--repeats", type=int, default=1, help="time each variant this often, keep the best")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    device = torch.device(a.device)
    torch.manual_seed(a.seed)
    model = Regressor(a.arch, a.channels).to(device).eval()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        model = model.to(memory_format=torch.channels_last)
    layer = getattr(model, a.layer)
    shape = (a.channels, a.height, a.width)
    images = torch.randn(a.n_images, *shape, generator=torch.Generator().manual_seed(a.seed)).to(device)
    kw = dict(threshold=a.threshold, sigma=a.sigma, batch_size=a.batch_size)

    n_ref = a.n_images if a.ref_images is None else min(a.ref_images, a.n_images)
    st, st_d = {}, {}
    variants = {  # name -> (images it explains, function); timed in interleaved rounds, best time kept
        "forward": (a.batch_size, lambda: forward_batch(model, shape, a.batch_size, device, a.autocast)),
        "sidu": (a.n_images, lambda: sidu(model, images, layer, autocast=a.autocast, stats=st, **kw)),
        "reference": (n_ref, lambda: reference_sidu(model, images[:n_ref], layer, a.threshold, a.sigma)),
    }
    if not a.no_dedup_run:
        variants["dedup"] = (a.n_images, lambda: sidu(model, images, layer, autocast=a.autocast, dedup=True,
                                                      stats=st_d, **kw))
    if device.type == "cuda" and a.autocast != "none":
        variants["fp32"] = (a.n_images, lambda: sidu(model, images, layer, **kw))
    forward_batch(model, shape, a.batch_size, device, a.autocast, calls=2)  # warm-up (cudnn autotuning)
    sidu(model, images[:2], layer, autocast=a.autocast, **kw)
    reference_sidu(model, images[:1], layer, a.threshold, a.sigma)
    best, out = {k: float("inf") for k in variants}, {}
    for _ in range(a.repeats):
        for k, (_, fn) in variants.items():
            out[k], t = timed(fn, device)
            best[k] = min(best[k], out[k][1] if k == "forward" else t)
    rate = {k: n / best[k] for k, (n, _) in variants.items()}

    N, X = st["n_masks"], rate["forward"]
    res = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
           "threads": torch.get_num_threads(), "arch": a.arch, "input": list(shape), "layer": a.layer,
           "N": N, "n_images": a.n_images, "batch_size": a.batch_size, "autocast": a.autocast, "repeats": a.repeats,
           "heatmaps_per_s": rate["sidu"], "forward_images_per_s": X, "bound": X / (N + 1)}
    res["ratio_to_bound"] = res["heatmaps_per_s"] / res["bound"]
    res["reference_heatmaps_per_s"] = rate["reference"]
    res["speedup_vs_reference"] = rate["sidu"] / rate["reference"]
    if "dedup" in rate:
        res.update(heatmaps_per_s_dedup=rate["dedup"], speedup_vs_reference_dedup=rate["dedup"] / rate["reference"],
                   dedup_forward_share=st_d["n_forward"] / (a.n_images * N))
    heat32 = out["sidu"]
    if "fp32" in rate:
        heat32 = out["fp32"]
        res["heatmaps_per_s_fp32"] = rate["fp32"]
        res["autocast_max_abs_diff_rel"] = float((out["sidu"] - heat32).abs().max() / heat32.abs().max())
    ref = out["reference"]
    res["reference_max_abs_diff_rel"] = float((heat32[:n_ref] - ref).abs().max() / ref.abs().max())
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
