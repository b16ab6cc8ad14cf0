"""Stage ``prepare_digits``: MNIST IDX files or CIFAR-10 python batches (``data.digits.root``, ``format``) ->
data/prepared/digits (stratified train/val split of the training files, the test files as test), and the split
statistics in reports/data/digits_stats.json. See :mod:`stages.data.digits`.
"""
from __future__ import annotations

from pathlib import Path

from stages.core import paths
from stages.core.io import write_json
from stages.core.stage import Stage
from stages.data import digits


def main(argv=None) -> None:
    st = Stage("prepare_digits", __doc__, argv, out=dict(default=str(paths.prepared("digits")), help="output folder"),
               reports=dict(default=str(paths.data_reports()), help="folder of the split statistics"))
    cfg = digits.load_params(st.params)
    stats = digits.prepare(cfg, Path(st.args.out))
    st.log.info("%s (%s): %s", cfg["root"], cfg["format"],
                {s: v["images"] for s, v in stats["splits"].items()})
    write_json(Path(st.args.reports) / "digits_stats.json", stats)


if __name__ == "__main__":
    main()
