"""Stage ``prepare_utk``: a UTKFace folder -> data/prepared/utk (packed arrays + tables), thesis recipe, and the
prepared splits' statistics and histograms in reports/data/utk_*.

Reads ``data.utk`` of params.yaml; see :mod:`stages.data.utkface` for the steps.
"""
from __future__ import annotations

import time
from pathlib import Path

from stages.core import paths, progress
from stages.core.io import write_json
from stages.data import utk_stats, utkface
from stages.core.stage import Stage


def main(argv=None) -> None:
    st = Stage("prepare_utk", __doc__, argv, out=dict(default=str(paths.prepared("utk")), help="output folder"),
               reports=dict(default=str(paths.data_reports()), help="folder of the split statistics"))
    args, log = st.args, st.log
    cfg = utkface.load_params(st.params)
    t0 = time.perf_counter()
    r = utkface.prepare(cfg, args.out, progress.enabled())
    log.info("%d files: %d faces, %d non-image, %d malformed names (kept), %d bad names, %d unreadable, "
             "%d too small", r["files_seen"], r["faces"], r["non_image"]["count"], r["malformed_names"]["count"],
             r["bad_names"]["count"], r["unreadable"]["count"], r["too_small"]["count"])
    log.info("subsample %d -> ages %d..%d: %d -> split %s -> after augmentation %s; forget %d / retain %d",
             r["after_subsample"], cfg["age_min"], cfg["age_max"], r["after_filter"], r["split_sizes"],
             r["split_sizes_augmented"], r["forget_size"], r["retain_size"])
    log.info("wrote %s in %.1f s", args.out, time.perf_counter() - t0)
    # per-split statistics (DVC metrics) and the age and forget-group histograms (DVC plots)
    write_json(Path(args.reports) / "utk_stats.json", utk_stats.compute(Path(args.out)))
    utk_stats.figures(Path(args.out), Path(args.reports))


if __name__ == "__main__":
    main()
