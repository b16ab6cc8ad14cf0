"""Format ``image_folder``: your own folder of class subfolders (torchvision's ImageFolder layout; ``root`` is the
folder) -> an image-classification dataset (:mod:`stages.data.image_folder`); figures: the images per class and split
(class_hist.csv, .png)."""
from __future__ import annotations

from stages.data import class_stats, image_folder
from stages.data.readers import base


class ImageFolder(base.Reader):
    def load(self, params):
        return image_folder.load_params(params, self.dataset)

    def prepare(self, cfg, out, log):
        stats = image_folder.prepare(cfg, out, self.dataset)
        log.info("%s: %d classes, %d images found, %s; skipped %s", cfg["root"], stats["classes"],
                 stats["files_found"], {s: v["images"] for s, v in stats["splits"].items()}, stats["skipped"])
        return stats

    def report(self, cfg, stats, prepared, figures):
        class_stats.write(prepared, figures, self.dataset)
        return stats
