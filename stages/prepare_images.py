"""Stage ``prepare_images@<dataset>``: your own folder of class subfolders (``image_folders.<dataset>``) ->
data/prepared/<dataset> (stratified train / val / test split, resized to ``data.<dataset>.image_size``) and the split
statistics in reports/data/<dataset>_stats.json. See :mod:`stages.data.image_folder`.

    python -m stages.prepare_images --dataset images
"""
from __future__ import annotations

from pathlib import Path

from stages.core import paths
from stages.core.io import write_json
from stages.core.stage import Stage
from stages.data import image_folder


def main(argv=None) -> None:
    st = Stage("prepare_images", __doc__, argv, dataset=dict(required=True, help="a dataset of image_folders"),
               out=dict(default=None, help="output folder (default data/prepared/<dataset>)"),
               reports=dict(default=str(paths.data_reports()), help="folder of the split statistics"))
    name = st.args.dataset
    cfg = image_folder.load_params(st.params, name)
    stats = image_folder.prepare(cfg, Path(st.args.out or paths.prepared(name)), name)
    st.log.info("%s: %d classes, %d images found, %s; skipped %s", cfg["root"], stats["classes"],
                stats["files_found"], {s: v["images"] for s, v in stats["splits"].items()}, stats["skipped"])
    write_json(Path(st.args.reports) / f"{name}_stats.json", stats)


if __name__ == "__main__":
    main()
