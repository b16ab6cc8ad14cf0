"""Format ``ltd``: an LTD copy (``annotations/`` and ``frames/``, a folder or a .zip of it) -> a counting dataset
(:mod:`stages.data.ltd_prepare`); figures: the count histogram per split (count_hist.csv, .png)."""
from __future__ import annotations

import time

from stages.core import config
from stages.data import ltd_prepare
from stages.data.readers import base


class LTD(base.Reader):
    def load(self, params):
        return config.load(self.key, ltd_prepare.SCHEMA, params)

    def prepare(self, cfg, out, log):
        t0 = time.time()
        stats = ltd_prepare.prepare(cfg, out)
        per_s = stats["frames_kept"] / max(time.time() - t0, 1e-9)  # logged, not written
        log.info("prepared %s frames (%s) at %.0f frames/s; excluded: %s", stats["frames_kept"], stats["sizes"],
                 per_s, ltd_prepare.excluded(stats))
        return stats

    def report(self, cfg, stats, prepared, figures):
        return ltd_prepare.write_figures(prepared, figures)
