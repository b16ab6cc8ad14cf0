"""Stage ``prepare@<dataset>``: the copy at ``data.<dataset>.root`` -> data/prepared/<dataset> (packed, model-ready
splits), its statistics in reports/data/<dataset>_stats.json (DVC metrics) and its figures in reports/data/<dataset>/.

    python -m stages.prepare --dataset digits

The reader is picked by ``data.<dataset>.format`` (:mod:`stages.data.readers`: ltd, utkface, mnist, cifar10,
image_folder); it validates the section before any file is read.
"""
from __future__ import annotations

from pathlib import Path

from stages.core import paths
from stages.core.io import write_json
from stages.core.stage import Stage
from stages.data import readers


def main(argv=None) -> None:
    st = Stage("prepare", __doc__, argv, dataset=dict(required=True, help="a section of data: (ltd, utk, digits, ...)"),
               out=dict(default=None, help="output folder (default data/prepared/<dataset>)"),
               reports=dict(default=str(paths.data_reports()),
                            help="folder of <dataset>_stats.json and of the figures folder <dataset>/"))
    name = st.args.dataset
    reader = readers.get(st.params, name)
    cfg = reader.load(st.params)
    out, reports = Path(st.args.out or paths.prepared(name)), Path(st.args.reports)
    stats = reader.prepare(cfg, out, st.log)
    write_json(reports / f"{name}_stats.json", reader.report(cfg, stats, out, reports / name))


if __name__ == "__main__":
    main()
