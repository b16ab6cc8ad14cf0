"""Stage split_stats: statistics of the prepared splits of both tasks (DVC metrics and plots).

Writes reports/data/ltd_stats.json, reports/data/ltd_count_hist.csv (+ .png) and the UTKFace counterparts.
"""
from __future__ import annotations

import argparse

from stages.data import ltd_stats, utk_stats
from stages.io import save_figure, setup_logging, write_csv, write_json

log = setup_logging("split_stats")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="reports/data")
    args = p.parse_args(argv)
    stats, hist = ltd_stats.compute()
    write_json(f"{args.out}/ltd_stats.json", stats)
    write_csv(f"{args.out}/ltd_count_hist.csv", hist)
    save_figure(f"{args.out}/ltd_count_hist.png", ltd_stats.figure(hist))
    log.info("LTD: %s", {s: stats[s]["frames"] for s in ("train", "val", "test")})
    write_json(f"{args.out}/utk_stats.json", utk_stats.compute())
    utk_stats.figures("data/prepared/utk", args.out)


if __name__ == "__main__":
    main()
