"""Time the UTKFace preparation at the real release size (23,708 faces) on synthetic faces.

    python bench/bench_prepare_utk.py [--n-faces 23708] [--seed 0] [--faces DIR]

Synthesizes the faces into a temporary folder (timed; ``--faces DIR`` reuses or keeps a folder
instead), runs ``prepare`` on it with the ``data.utk`` settings of params.yaml (only ``root``
changed; UNLEARN_PARAMS=other.yaml for others, e.g. the thesis' min_per_age 150) and prints both
times and the sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from stages.data import synth_utk, utk_stats, utkface


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-faces", type=int, default=23_708, help="faces to synthesize (real release: 23,708)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--faces", help="face folder: used as is if it exists, else synthesized there and kept")
    args = ap.parse_args()
    cfg = utkface.load_params()
    with tempfile.TemporaryDirectory(prefix="bench_utk_") as tmp:
        faces, out = Path(args.faces or Path(tmp) / "faces"), Path(tmp) / "prepared"
        t_synth = None
        if not faces.exists():
            t0 = time.perf_counter()
            synth_utk.synthesize(faces, args.n_faces, args.seed, progress=False)
            t_synth = round(time.perf_counter() - t0, 1)
        size_mb = sum(f.stat().st_size for f in faces.iterdir()) / 2**20
        t0 = time.perf_counter()
        report = utkface.prepare({**cfg, "root": str(faces)}, out, progress=False)
        t_prep = time.perf_counter() - t0
        stats = utk_stats.compute(out)
        out_mb = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    hist = stats["age_hist"]
    print(json.dumps({
        "faces_folder": str(faces) if args.faces else "temporary", "cpus": os.cpu_count(), "synthesize_s": t_synth,
        "folder_mb": round(size_mb, 1), "prepare_s": round(t_prep, 1), "prepared_mb": round(out_mb, 1),
        "image_size": cfg["image_size"], "min_per_age": cfg["augment"]["min_per_age"],
        "files": stats["files"], "sizes": stats["sizes"],
        "age_hist_totals": {k: sum(v.values()) for k, v in hist.items()},
        "age_hist_bins": {k: sum(n > 0 for n in v.values()) for k, v in hist.items()},
        "train_per_age": stats["train_per_age"], "forget": stats["forget"],
        "ages_without_train_images": report["ages_without_train_images"],
    }, indent=2))


if __name__ == "__main__":
    main()
