"""Stage ``export_digits``: scikit-learn's bundled real 8x8 digits -> the four MNIST IDX files (``data.digits.export``).

The embedded default of the per-task track: ``prepare@digits`` then reads them as any MNIST folder.
"""
from __future__ import annotations

from pathlib import Path

from stages.core.stage import Stage
from stages.data import digits


def main(argv=None) -> None:
    st = Stage("export_digits", __doc__, argv)
    cfg = digits.load_params(st.params)["export"]
    r = digits.export_sklearn(Path(cfg["out"]), cfg["seed"], cfg["test_share"])
    st.log.info("%d real digits %s -> %s: %d train, %d test (stratified)", r["images"], r["size"], cfg["out"],
                r["train"], r["test"])


if __name__ == "__main__":
    main()
