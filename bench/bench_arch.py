"""Benchmark (not a test): training throughput and SIDU cost of candidate networks on this machine.

    python bench/bench_arch.py [--size 72 96] [--channels 1] [--steps 20] [--configs imagenet:64 small:16 ...]

For each ``stem:width`` (resnet10), times ``--steps`` bf16-autocast training steps of batch 32 at the given input
size (images/s) and SIDU on 4 images at ``layer4`` (s/image, feature grid, masks). Prints one JSON line per config.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from stages.models import resnet
from stages.xai.sidu import explain_model


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size", type=int, nargs=2, default=[72, 96])
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--configs", nargs="+", default=["imagenet:64", "small:16", "small:24", "small:32"])
    a = p.parse_args()
    torch.manual_seed(0)
    for c in a.configs:
        stem, width = c.split(":")
        m = resnet.Regressor("resnet10", a.channels, stem=stem, width=int(width))
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        x = torch.randn(a.batch, a.channels, *a.size)
        y = torch.rand(a.batch)
        m.train()
        for i in range(a.steps + 3):
            if i == 3:
                t0 = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = torch.nn.functional.mse_loss(m(x).float(), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        train_ips = a.steps * a.batch / (time.perf_counter() - t0)
        m.eval()
        grid = []
        hook = m.net.layer4.register_forward_hook(lambda mod, i, o: grid.extend(o.shape[2:]))
        with torch.no_grad():
            m(x[:1])
        hook.remove()
        st: dict = {}
        t0 = time.perf_counter()
        explain_model(m, x[:4], "layer4", stats=st, threshold=0.15, dedup=True, sigma=0.5, batch_size=512)
        sidu_s = (time.perf_counter() - t0) / 4
        print(json.dumps({"config": c, "size": a.size, "train_images_per_s": round(train_ips, 1), "grid": grid,
                          "sidu_s_per_image": round(sidu_s, 3), **{k: st[k] for k in ("n_masks", "n_forward")},
                          "params": sum(p.numel() for p in m.parameters())}), flush=True)


if __name__ == "__main__":
    main()
