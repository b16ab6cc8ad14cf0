"""Collecting a sweep: each experiment's ``summary.json`` (its value: the mean over the ``repeats`` training runs),
``intervals.json`` (the 95 % interval over runs and samples) and ``paired.json`` as the experiment committed them,
gathered into tidy rows (one per value, model and metric) with the published number beside each, and written to
``reports/sweeps/<name>/``."""
from __future__ import annotations

import sys
from pathlib import Path

from stages.core import config
from stages.sweeps import dvc_cli
from stages.sweeps.catalog import Sweep, exp_name
from stages.sweeps.render import write_reports

REPORT_FILES = ("summary", "intervals", "paired")  # reports/<task>/<kind>.json read from each experiment's commit


def collect(name: str, sw: Sweep, out: Path) -> int:
    """Collect the sweep's experiments into ``out/<name>/``; 1 when one of them could not be collected, else 0."""
    exps = dvc_cli.exp_show()
    if any(exp_name(name, v) not in exps for v in sw.values):  # run on an earlier commit?
        exps = {**dvc_cli.exp_show(all_commits=True), **exps}
    files = committed_reports(name, sw, exps)
    rows, problems = collect_rows(name, sw, exps, files["intervals"], files["summary"])
    for exp, p in problems.items():
        print(f"{exp}: {p}", file=sys.stderr)
    if not rows:
        raise SystemExit(f"sweep {name}: no experiment to collect")
    write_reports(name, sw, rows, problems, out / name, files["paired"])
    print(f"wrote {out / name}/table.md, results.csv, figure.png ({len(sw.values) - len(problems)} of "
          f"{len(sw.values)} experiments)")
    return 1 if problems else 0


def committed_reports(name: str, sw: Sweep, exps: dict) -> dict[str, dict]:
    """{kind: {experiment: its ``reports/<task>/<kind>.json``}} of every successful experiment of the sweep."""
    files: dict[str, dict] = {kind: {} for kind in REPORT_FILES}
    for exp, e in exps.items():
        if exp.startswith(f"{name}-") and e["state"] == "success":
            for kind, got in files.items():
                got[exp] = dvc_cli.committed_json(e["rev"], f"reports/{sw.task}/{kind}.json")
    return files


def collect_rows(name: str, sw: Sweep, exps: dict, intervals: dict,
                 summaries: dict | None = None) -> tuple[list[dict], dict[str, str]]:
    """Tidy rows of every (value, model, metric) with an experiment, and {experiment: problem} for the others.
    Values: the experiment's ``summary.json`` (from ``summaries``, read from its commit, or its DVC metrics)."""
    rows, problems = [], {}
    for v, setting in zip(sw.values, sw.settings):
        exp, e = exp_name(name, v), exps.get(exp_name(name, v))
        summary = (summaries or {}).get(exp) or (e or {}).get("metrics", {}).get(f"reports/{sw.task}/summary.json")
        if problem := problem_of(exp, e, summary, setting):
            problems[exp] = problem
            continue
        for model in sw.models:
            for metric in sw.metrics:
                iv = intervals.get(exp, {}).get(model, {}).get(metric) or {}
                pub = ((sw.published or {}).get(v) or {}).get(model, {}).get(metric)
                rows.append({"sweep": name, "setting": v, "model": model, "metric": metric,
                             "value": summary.get(model, {}).get(metric), "lo": iv.get("lo"), "hi": iv.get("hi"),
                             "published": pub, "experiment": exp})
    return rows, problems


def problem_of(exp: str, e: dict | None, summary: dict | None, setting: dict) -> str | None:
    """Why experiment ``exp`` (its record ``e``) cannot be collected: not run, still queued or running, failed, or run
    with other params than ``setting``; None when it can."""
    if e is None or e["state"] in ("queued", "running"):
        return "not run" if e is None else e["state"]
    if e["state"] != "success" or not summary:
        return f"failed: see `dvc queue logs {exp}`"
    got = {k: param_of(e["params"], k) for k in setting}  # a name reused for other settings (SWEEPS edited)
    if got != setting:
        return f"ran with {got}, not {setting}: `dvc exp remove {exp}` and rerun"
    return None


def param_of(params: dict, key: str):
    """The value of dotted ``key`` in an experiment's params.yaml (None where it has none)."""
    try:
        return config.get(params.get("params.yaml", {}).get("data", {}), key)
    except config.ParamError:
        return None
