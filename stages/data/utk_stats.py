"""UTKFace statistics (stage ``prepare@utk``, through :mod:`stages.data.readers.utkface`): metrics and figures of
``data/prepared/utk``.

:func:`compute` returns the content of ``reports/data/utk_stats.json`` (file defects, sizes after each
step, age histograms per split before / after augmentation, forget-group sizes); :func:`figures`
writes the PNGs and the CSV tables behind them (DVC plots).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stages.data.arrays import SPLITS, task_dir
from stages.core.io import read_json, save_figure, write_csv

PREPARED = task_dir("utk")
DEFECTS = ("non_image", "malformed_names", "bad_names", "unreadable", "too_small")


def _tables(d: Path) -> dict[str, pd.DataFrame]:
    return {s: pd.read_csv(d / f"{s}.csv") for s in SPLITS}


def age_table(prepared_dir=PREPARED) -> pd.DataFrame:
    """Wide age histogram: one row per age, columns train_before, train_after, val, test."""
    t = _tables(Path(prepared_dir))
    meta = read_json(Path(prepared_dir) / "meta.json")
    cols = {"train_before": t["train"].loc[~t["train"]["augmented"], "age"], "train_after": t["train"]["age"],
            "val": t["val"]["age"], "test": t["test"]["age"]}
    ages = np.arange(meta["age_min"], meta["age_max"] + 1)
    out = pd.DataFrame({"age": ages})
    for k, v in cols.items():
        out[k] = v.value_counts().reindex(ages, fill_value=0).to_numpy()
    return out


def group_table(prepared_dir=PREPARED) -> pd.DataFrame:
    """Forget-group sizes: one row per group (interval label), columns train_before, train_after, val, test."""
    report = read_json(Path(prepared_dir) / "prepare_report.json")
    rows = [{"group": g["index"], "interval": g["interval"], "train_before": g["train_original"],
             "train_after": g["train"], "val": g["val"], "test": g["test"]} for g in report["forget_groups"]]
    return pd.DataFrame(rows)


def compute(prepared_dir=PREPARED) -> dict:
    """Metrics of the prepared UTKFace data (from prepare_report.json and the split tables)."""
    d = Path(prepared_dir)
    report, meta, t = read_json(d / "prepare_report.json"), read_json(d / "meta.json"), _tables(d)
    ages = age_table(d)
    present = ages[ages["train_before"] > 0]
    train = t["train"]
    fg = meta["forget_group"]
    return {
        "files": {"seen": report["files_seen"], "faces": report["faces"],
                  **{k: report[k]["count"] for k in DEFECTS},
                  # byte-identical images: groups and the copies beyond the first (each group in one split)
                  "duplicate_groups": report.get("duplicates", {}).get("groups", 0),
                  "duplicate_copies": report.get("duplicates", {}).get("extra_copies", 0)},
        "sizes": {"after_subsample": report["after_subsample"], "outside_age_range": report["outside_age_range"],
                  "dropped_unusable": report["dropped_unusable"]["count"], "kept": report["after_filter"],
                  **{s: int((~t[s]["augmented"]).sum()) for s in SPLITS},
                  "train_augmented": len(train), "augmented_copies": int(train["augmented"].sum())},
        # fewest training images of an age (among ages with any), and ages with none at all
        "train_per_age": {"min_before": int(present["train_before"].min()),
                          "min_after": int(present["train_after"].min()),
                          "ages_missing": int((ages["train_before"] == 0).sum())},
        "forget": {"group": fg, "interval": report["forget_groups"][fg]["interval"],
                   "forget": int(train["forget"].sum()), "retain": int((~train["forget"]).sum()),
                   "forget_original": int((train["forget"] & ~train["augmented"]).sum()),
                   "test": len(t["test"])},
        "forget_groups": {g["interval"]: {k: g[k] for k in ("train_original", "train", "val", "test")}
                          for g in report["forget_groups"]},
        "age_hist": {c: {str(a): int(n) for a, n in zip(ages["age"], ages[c])}
                     for c in ("train_before", "train_after", "val", "test")},
    }


def figures(prepared_dir=PREPARED, out_dir="reports/data/utk") -> list[Path]:
    """Write age_hist.{csv,png} and forget_groups.{csv,png} into ``out_dir``; return the paths.

    The CSVs have columns age (resp. group, interval), then one column of counts per split: train_before,
    train_after (augmentation), val, test (DVC plots draw one line per split)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d, out = Path(prepared_dir), Path(out_dir)
    report = read_json(d / "prepare_report.json")
    ages, groups = age_table(d), group_table(d)
    paths = [out / "age_hist.csv", out / "forget_groups.csv", out / "age_hist.png", out / "forget_groups.png"]
    write_csv(paths[0], ages)
    write_csv(paths[1], groups)

    fig, ax = plt.subplots(1, 3, figsize=(16, 3.8))
    for key, label in (("all_faces", "all faces"), ("subsample", f"subsample ({report['subsample']:.0%})")):
        h = pd.Series(report["age_hist"][key]).rename(index=int).sort_index()
        ax[0].bar(h.index, h.to_numpy(), width=1.0, alpha=0.6, label=label)
    ax[0].set(title="Folder: ages before the age filter", xlabel="age", ylabel="images")
    for i, (title, train_col) in enumerate((("before augmentation", "train_before"),
                                            ("after augmentation (train only)", "train_after")), 1):
        for col, name in ((train_col, "train"), ("val", "val"), ("test", "test")):
            ax[i].step(ages["age"], ages[col], where="mid", label=f"{name} ({ages[col].sum()})")
        ax[i].set(title=f"Splits {title}", xlabel="age", ylabel="images")
    for a in ax:
        a.legend()
    save_figure(paths[2], fig)

    fig, ax = plt.subplots(figsize=(7, 3.8))
    cols = ["train_before", "train_after", "val", "test"]
    x, w = np.arange(len(groups)), 0.8 / len(cols)
    for j, c in enumerate(cols):
        ax.bar(x + (j - 1.5) * w, groups[c], width=w, label=c)
    ax.set_xticks(x, [f"{g}\n{'(forget)' if i == report['forget_group'] else ''}"
                      for i, g in enumerate(groups["interval"])])
    ax.set(title="Forget-group sizes", xlabel="age group", ylabel="images")
    ax.set_ylim(top=1.25 * groups[cols].to_numpy().max())
    ax.legend(ncols=len(cols), loc="upper center", fontsize="small")
    save_figure(paths[3], fig)
    return paths
