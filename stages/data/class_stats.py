"""Per-class image counts of a prepared classification dataset (the digits, an image folder): the table and bar chart
that stage ``prepare@<dataset>`` writes into reports/data/<dataset>/ (class_hist.csv, class_hist.png).

The table has one row per class and one column of images per split: ``class`` is the class's label (its index into
``meta.json``'s ``class_names``, a number, so that the plots page's line template draws it on its x axis), then
``train``, ``val``, ``test`` (the DVC plot draws one line per split)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stages.core.io import read_json, save_figure, write_csv
from stages.data import arrays


def table(prepared_dir: str | Path) -> pd.DataFrame:
    """Images per class and split, read from ``<split>.csv`` (column ``label``) and ``meta.json`` (the classes)."""
    d = Path(prepared_dir)
    meta = read_json(d / "meta.json")
    classes = int(meta["classes"])
    out = pd.DataFrame({"class": np.arange(classes)})
    for split in arrays.SPLITS:
        labels = pd.read_csv(d / f"{split}.csv", usecols=["label"])["label"].to_numpy(int)
        out[split] = np.bincount(labels, minlength=classes)[:classes]
    return out


def figure(hist: pd.DataFrame, names: list[str], dataset: str):
    """Grouped bars: one group per class (labelled by its name), one bar per split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = [s for s in arrays.SPLITS if s in hist.columns]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(hist) + 2), 3.8), dpi=100)
    x, width = np.arange(len(hist)), 0.8 / len(splits)
    for i, split in enumerate(splits):
        ax.bar(x + (i - (len(splits) - 1) / 2) * width, hist[split], width, label=f"{split} ({hist[split].sum()})")
    ax.set_xticks(x, names, rotation=45 if max(map(len, names), default=0) > 3 else 0,
                  ha="right" if max(map(len, names), default=0) > 3 else "center")
    ax.set(title=f"Dataset {dataset}: images per class and split", xlabel="class", ylabel="images")
    ax.set_ylim(top=1.25 * max(1, hist[splits].to_numpy().max()))  # room for the legend above the bars
    ax.legend(title="split (images)", ncols=len(splits), loc="upper center", fontsize="small")
    return fig


def write(prepared_dir: str | Path, out_dir: str | Path, dataset: str) -> pd.DataFrame:
    """``out_dir``/class_hist.csv and class_hist.png of the prepared data; returns the table."""
    hist = table(prepared_dir)
    meta = read_json(Path(prepared_dir) / "meta.json")
    names = [str(n) for n in meta.get("class_names") or hist["class"]]
    write_csv(Path(out_dir) / "class_hist.csv", hist)
    save_figure(Path(out_dir) / "class_hist.png", figure(hist, names, dataset))
    return hist
