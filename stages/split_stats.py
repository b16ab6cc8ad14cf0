"""Stage split_stats: statistics of the prepared splits of both tasks (DVC metrics and plots).

Writes reports/data/ltd_stats.json, reports/data/ltd_count_hist.csv (+ .png) and the UTKFace counterparts.
"""
from __future__ import annotations

from pathlib import Path

from stages.core import paths
from stages.data import ltd_stats, utk_stats
from stages.core.io import save_figure, write_csv, write_json
from stages.core.stage import Stage


def main(argv=None):
    st = Stage("split_stats", __doc__, argv, root=True, out=dict(default=None, help="default reports/data"))
    out = Path(st.args.out) if st.args.out else paths.data_reports(st.root)
    stats, hist = ltd_stats.compute(paths.prepared("ltd", st.root))
    write_json(out / "ltd_stats.json", stats)
    write_csv(out / "ltd_count_hist.csv", hist)
    save_figure(out / "ltd_count_hist.png", ltd_stats.figure(hist))
    st.log.info("LTD: %s", {s: stats[s]["frames"] for s in ("train", "val", "test")})
    write_json(out / "utk_stats.json", utk_stats.compute(paths.prepared("utk", st.root)))
    utk_stats.figures(paths.prepared("utk", st.root), out)


if __name__ == "__main__":
    main()
