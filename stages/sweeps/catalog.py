"""The papers' sweeps: per sweep the params it sets to each value, the models and metrics it collects and the
published numbers shown beside ours (the tables themselves: :mod:`stages.metrics.published`)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from stages import tasks
from stages.core import config
from stages.metrics.published import (LTD_TABLE1, UTK_THESIS_TABLE3, UTK_THESIS_TABLE5_MAE, UTK_THESIS_TABLE8,
                                      UTK_THESIS_TABLES_4_6_7, UTK_THESIS_TABLES_4_7_ORIGINAL)


@dataclass
class Sweep:
    """One sweep: one DVC experiment per value, each setting ``settings[i]`` and collecting ``metrics`` of
    ``models`` from ``reports/<task>/``."""
    doc: str                        # one line, shown by --help
    task: str                       # the task whose reports/<task>/ are collected
    label: str                      # name of the swept quantity (table rows, figure x axis)
    values: list                    # the swept values, one experiment each ...
    settings: list[dict]            # ... and its params (dotted key -> value)
    models: list[str]
    metrics: list[str]
    published: dict | None = None   # value -> model -> metric -> published number
    claim: tuple[str, list[str]] | None = None  # (metric, models in the paper's order, highest first)
    logx: bool = False


def sweep(doc, task, keys, values, models, metrics, published=None, **kw) -> Sweep:
    """A sweep setting every key of ``keys`` to each value in turn; ``published(value)`` -> model -> metric."""
    return Sweep(doc, task, kw.pop("label", keys[0].split(".")[-1]), list(values),
                 [{k: v for k in keys} for v in values], models, metrics,
                 published and {v: published(v) for v in values}, **kw)


UTK_MODELS = ["original", "finetune", "random_labels"]  # the thesis' models
UTK_EPOCH_KEYS = [  # the two unlearning methods' epochs on utk, set together
    "unlearn.methods.finetune.epochs.utk", "unlearn.methods.random_labels.epochs.utk"]
UTK_GROUPS = list(UTK_THESIS_TABLE8)  # the thesis' five age groups, in params order (data.utk.forget_groups)


def _epochs_published(n):
    """Seed 001 Tables 4-7 at ``n`` unlearning epochs: the methods' Utility, Forgetting, F and MAE, and the Original."""
    return {"original": {**UTK_THESIS_TABLES_4_7_ORIGINAL},
            **{m: {**UTK_THESIS_TABLES_4_6_7[n][m], "MAE": UTK_THESIS_TABLE5_MAE[m][n]} for m in UTK_MODELS[1:]}}


def _ltd_published(method, paper_value):
    """Seed 000 Table 1: Original and Retrain at every value, the method at the paper's own setting only."""
    def published(v):
        models = ["original", "retrain"] + ([method] if v == paper_value else [])
        return {m: {k: LTD_TABLE1[m][k] for k in ("MAE", "h-HC")} for m in models}
    return published


SWEEPS: dict[str, Sweep] = {
    "alpha": sweep("thesis Table 3: Forgetting vs its alpha (re-evaluation only)", "utk", ["evaluate.alpha"],
                   [2, 5, 10, 15, 20, 25, 30, 35], UTK_MODELS, ["Forgetting"],
                   lambda v: {m: {"Forgetting": UTK_THESIS_TABLE3[v][m]} for m in UTK_MODELS},
                   claim=("Forgetting", ["finetune", "original", "random_labels"])),
    "epochs": sweep("thesis Tables 4-7: unlearning epochs 2/4/8/16 of fine-tune and random labels", "utk", UTK_EPOCH_KEYS,
                    [2, 4, 8, 16], UTK_MODELS, ["Utility", "Forgetting", "F", "MAE"], _epochs_published,
                    claim=("F", ["finetune", "random_labels"]), logx=True, label="epochs"),
    "forget_group": sweep("thesis Table 8: forget groups 0-4 (ages 20-28, 28-36, 36-44, 44-52, 52-60)", "utk",
                          ["data.utk.forget_group"], range(len(UTK_GROUPS)), UTK_MODELS, ["Utility", "Forgetting", "F"],
                          lambda v: UTK_THESIS_TABLE8[UTK_GROUPS[v]],
                          claim=("F", ["finetune", "original", "random_labels"])),
    "prune_amount": sweep("seed 000 on LTD: Prune's share of zeroed weights (paper 0.95, code 0.99)", "ltd",
                          ["unlearn.methods.prune.amount"], [0.5, 0.8, 0.95, 0.99], ["original", "retrain", "prune"],
                          ["MAE", "MIA", "h-HC"], _ltd_published("prune", 0.95)),
    "confuse_sigma": sweep("seed 000 on LTD: Confuse's weight noise sigma (paper 0.05)", "ltd",
                           ["unlearn.sigma"], [0.01, 0.05, 0.1, 0.2],
                           ["original", "retrain", "confuse"], ["MAE", "MIA", "h-HC"], _ltd_published("confuse", 0.05)),
}


def _task_names(params: dict) -> set[str]:
    """The tasks of ``tasks:`` in ``params`` (none where it is missing or malformed)."""
    entries = params.get(tasks.SECTION)
    return set(entries) if isinstance(entries, dict) else set()


def key_state(key: str, params: dict) -> str:
    """'set' (params.yaml holds it), 'optional' (absent, but a key the stages accept: a method's own
    ``epochs.<task>``) or 'missing'."""
    try:
        config.get(params, key)
        return "set"
    except config.ParamError:
        parts = key.split(".")
        ok = (len(parts) == 5 and parts[:2] == ["unlearn", "methods"] and parts[3] == "epochs"
              and isinstance(params.get("unlearn", {}).get("methods", {}).get(parts[2]), dict)
              and parts[4] in _task_names(params))
        return "optional" if ok else "missing"


def check_keys(sw: Sweep, params: dict) -> None:
    """SystemExit naming every key of the sweep that params.yaml neither holds nor accepts."""
    missing = sorted({k for s in sw.settings for k in s if key_state(k, params) == "missing"})
    if missing:
        raise SystemExit(f"sweep needs {', '.join(missing)}: missing from params.yaml")


def exp_name(name: str, value) -> str:
    """``<sweep>-<value>`` made a valid git ref component."""
    s = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", f"{name}-{value}"))
    return s.strip(".")
