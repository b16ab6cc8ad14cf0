"""An example image folder to try the own-images task on: scikit-learn's 1,797 real 8x8 digits as PNG files in the
ImageFolder layout, ``<out>/<digit>/<index>.png`` (grey, values 0..16 scaled to 0..255). Not a pipeline stage: run it
once, then point ``data.images.root`` at the folder (profiles/images.yaml does).

    python -m stages.export_images data/raw/images
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stages.core.io import atomic_dir


def export(out: Path) -> dict:
    """Write the digits to ``out`` (replaced as a whole); returns the counts."""
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.clip(np.rint(d.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    with atomic_dir(out) as tmp:
        for i, (img, label) in enumerate(zip(x, d.target)):
            folder = Path(tmp) / str(label)
            folder.mkdir(exist_ok=True)
            Image.fromarray(img, "L").save(folder / f"{i:04d}.png")
    return {"images": len(x), "classes": len(set(d.target.tolist()))}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m stages.export_images", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", default="data/raw/images", help="folder to write (default data/raw/images)")
    args = p.parse_args(argv)
    r = export(Path(args.out))
    print(f"{r['images']} digits in {r['classes']} class folders -> {args.out}")


if __name__ == "__main__":
    main()
