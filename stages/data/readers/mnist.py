"""Format ``mnist``: the four MNIST IDX files (plain or .gz; the embedded digits are written in it) -> an
image-classification dataset (:mod:`stages.data.digits`); figures: the images per class and split (class_hist.csv,
.png). Format ``cifar10`` (readers/cifar10.py) is the same reader on CIFAR-10's python batches."""
from __future__ import annotations

from stages.data import class_stats, digits
from stages.data.readers import base


class MNIST(base.Reader):
    def load(self, params):
        return digits.load_params(params, self.dataset)

    def prepare(self, cfg, out, log):
        stats = digits.prepare(cfg, out, self.dataset)
        log.info("%s (%s): %s", cfg["root"], cfg["format"], {s: v["images"] for s, v in stats["splits"].items()})
        return stats

    def report(self, cfg, stats, prepared, figures):
        class_stats.write(prepared, figures, self.dataset)
        return stats
