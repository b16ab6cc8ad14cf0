"""Benchmark (not a test): prepare@ltd read + resize throughput in frames/s on this machine.

    python bench/bench_prepare_ltd.py [--frames 6000] [--size 72 96] [--root PATH]

Synthesizes an LTD-format tree (or reads --root, e.g. a real LTD copy), then times the two parts of
prepare@ltd that scale with the dataset: reading every annotation file (read_annotations) and decoding +
resizing every frame (load_frames). Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from stages.data import ltd
from stages.data.synth_ltd import SynthConfig, generate

FULL_LTD_FRAMES = 1_069_428


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--frames", type=int, default=6000, help="frames to synthesize (ignored with --root)")
    p.add_argument("--size", type=int, nargs=2, default=[72, 96], metavar=("H", "W"))
    p.add_argument("--root", default=None)
    p.add_argument("--workers", type=int, default=None)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root
        if root is None:
            clips = max(1, args.frames // 100)
            cfg = SynthConfig(out=tmp, seed=0, start_date="20200514", end_date="20210430", dates=clips,
                              clips_per_date=1, frames_per_clip=100, mean_objects=2.6)
            generate(cfg, tmp, progress=False)
            root = tmp
        os.sync()
        t0 = time.perf_counter()
        df = ltd.read_annotations(root)
        t1 = time.perf_counter()
        _, ok = ltd.load_frames(root, list(df["file_name"]), tuple(args.size), workers=args.workers, progress=False)
        t2 = time.perf_counter()
    n = len(df)
    fps = n / (t2 - t0)
    print(json.dumps({
        "frames": n, "unreadable": int((~ok).sum()), "size": args.size, "cores": os.cpu_count(),
        "annotations_s": round(t1 - t0, 3), "images_s": round(t2 - t1, 3),
        "frames_per_s": round(fps, 1), "images_per_s": round(n / (t2 - t1), 1),
        "full_ltd_minutes_estimate": round(FULL_LTD_FRAMES / fps / 60, 1),
    }))


if __name__ == "__main__":
    main()
