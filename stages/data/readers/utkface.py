"""Format ``utkface``: a folder (or .zip) of UTKFace faces named ``<age>_<gender>_<race>_<date>.jpg.chip.jpg`` -> an
age-regression dataset, thesis recipe (:mod:`stages.data.utkface`); figures: the age and forget-group histograms per
split (age_hist.csv, forget_groups.csv and their .png)."""
from __future__ import annotations

import time

from stages.core import progress
from stages.data import utk_stats, utkface
from stages.data.readers import base


class UTKFace(base.Reader):
    def load(self, params):
        return utkface.load_params(params, self.dataset)

    def prepare(self, cfg, out, log):
        t0 = time.perf_counter()
        r = utkface.prepare(cfg, out, progress.enabled())
        log.info("%d files: %d faces, %d non-image, %d malformed names (kept), %d bad names, %d unreadable, "
                 "%d too small", r["files_seen"], r["faces"], r["non_image"]["count"], r["malformed_names"]["count"],
                 r["bad_names"]["count"], r["unreadable"]["count"], r["too_small"]["count"])
        log.info("subsample %d -> ages %d..%d: %d -> split %s -> after augmentation %s; forget %d / retain %d",
                 r["after_subsample"], cfg["age_min"], cfg["age_max"], r["after_filter"], r["split_sizes"],
                 r["split_sizes_augmented"], r["forget_size"], r["retain_size"])
        log.info("wrote %s in %.1f s", out, time.perf_counter() - t0)
        return r

    def report(self, cfg, stats, prepared, figures):
        utk_stats.figures(prepared, figures)
        return utk_stats.compute(prepared)
