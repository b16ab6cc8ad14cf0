"""Per-split statistics of the prepared LTD data (stage ``prepare@ltd``, through :mod:`stages.data.readers.ltd`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stages.data import arrays, ltd


# what prepare@ltd read, excluded or corrected (prepare_report.json); a count absent from an older report reads 0
INPUT_COUNTS = ("frames_read", "frames_kept", "skipped_lines", "frames_with_bad_lines", "non_utf8_annotations",
                "missing_annotations", "orphan_annotations", "bad_names", "frames_in_bad_names",
                "annotations_in_bad_names", "ignored_hidden", "unreadable_images", "wrong_size_images", "utf8_bom",
                "typo_vehicie")


def _mix(t: pd.DataFrame, forget_class: str) -> dict:
    has_f = t[forget_class] > 0
    has_o = (t[[c for c in ltd.CLASSES if c != forget_class]].sum(axis=1)) > 0
    return {f"only_{forget_class}": int((has_f & ~has_o).sum()), "only_other": int((~has_f & has_o).sum()),
            "both": int((has_f & has_o).sum()), "empty": int((~has_f & ~has_o).sum())}


def compute(prepared_dir=arrays.task_dir("ltd")) -> tuple[dict, pd.DataFrame]:
    """(metrics dict, count histogram table with columns count, split, frames; :func:`wide` pivots it)."""
    d = Path(prepared_dir)
    meta = arrays.load_meta(d.name, d.parent)
    report = pd.read_json(d / "prepare_report.json", typ="series").to_dict()
    stats, hist = {"input": {k: report.get(k, 0) for k in INPUT_COUNTS}}, []
    for split in arrays.SPLITS:
        t = pd.read_csv(d / f"{split}.csv")
        counts = t["y"].value_counts().sort_index()
        stats[split] = {
            "frames": len(t), "unique_frames": int(t["file_name"].nunique()), "clips": int(t["clip"].nunique()),
            "dates": int(t["date"].nunique()), "first_date": t["date"].min(), "last_date": t["date"].max(),
            "objects": {c: int(t[c].sum()) for c in ltd.CLASSES},
            "mean_count_y": round(float(t["y"].mean()), 4), "mean_count_y_prime": round(float(t["y_prime"].mean()), 4),
            "mix": _mix(t, meta["forget_class"]),
            "count_histogram": {int(k): int(v) for k, v in counts.items()},
        }
        hist += [{"count": int(k), "split": split, "frames": int(v)} for k, v in counts.items()]
    return stats, pd.DataFrame(hist)


def wide(hist: pd.DataFrame) -> pd.DataFrame:
    """One row per count, one column of frames per split (train, val, test): the DVC plot draws one line per split."""
    table = hist.pivot(index="count", columns="split", values="frames").fillna(0).astype(int)
    table = table.reindex(columns=[s for s in arrays.SPLITS if s in table.columns])
    table.columns.name = None
    return table.reset_index()


def figure(hist: pd.DataFrame):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    table = hist.pivot(index="count", columns="split", values="frames").fillna(0)
    share = table / table.sum()
    width = 0.8 / len(share.columns)
    for i, split in enumerate(share.columns):
        ax.bar(np.asarray(share.index) + (i - (len(share.columns) - 1) / 2) * width, share[split], width, label=split)
    ax.set(xlabel="objects per frame (y)", ylabel="share of frames", title="LTD count histogram per split")
    ax.legend()
    return fig
