"""Sweeps: the papers' experiments in one command. Not a stage: it drives DVC experiments of the whole pipeline.

    python -m stages.sweep --help                  # every sweep, one line each
    python -m stages.sweep alpha --dry-run         # print the `dvc exp run --queue ...` commands, run nothing
    python -m stages.sweep alpha -j 2              # queue, run 2 at a time, wait, collect
    python -m stages.sweep alpha --gpus 0,1        # as -j 2, worker i pinned to GPU i (CUDA_VISIBLE_DEVICES)
    python -m stages.sweep alpha --collect         # only collect experiments that already ran

One DVC experiment per swept value, named ``<sweep>-<value>``, limited to the task's chain (target
``report@<task>``): ``dvc exp run --queue -n <name> -S key=value ... report@<task>`` (``-S +key=value`` for a key that
params.yaml does not hold yet, such as ``unlearn.methods.finetune.epochs.utk``: DVC's plain ``-S`` refuses to add a
key), then ``dvc queue start -j N`` and a wait on ``dvc queue status``. An experiment name that already exists on
this commit is reused, never queued twice. Collecting reads each experiment's ``reports/<task>/summary.json`` (its
value: the mean over the ``repeats`` training runs) from ``dvc exp show --json`` and ``intervals.json`` (the 95 %
interval over runs and samples) from the experiment's commit, and writes
``reports/sweeps/<name>/`` table.md, results.csv and figure.png, with the published values beside ours.

One GPU per worker: queue workers inherit the environment of the ``dvc queue start`` that spawned them, and worker
k of a repository is started only by a ``dvc queue start -j n`` with n >= k (a worker already running is skipped,
so ``CUDA_VISIBLE_DEVICES=1 dvc queue start -j 1`` after worker 1 is up starts nothing). Hence, worker by worker,
once the previous one shows in ``dvc queue status``: ``CUDA_VISIBLE_DEVICES=0 dvc queue start -j 1``, then
``CUDA_VISIBLE_DEVICES=1 dvc queue start -j 2``, ... which is what ``--gpus 0,1,...`` does.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from stages.core import config, progress, threads
from stages.core.io import save_figure, write_csv, write_text
from stages.core.tables import fmt, fmt_interval
from stages.metrics.bootstrap import pair, separated
from stages.metrics.published import LTD_TABLE1, UTK_THESIS_TABLE5_MAE, UTK_THESIS_TABLE8

# Seed 001 (thesis), REFERENCE section 11; every value the mean of 3 runs, forget ages 20-28.
THESIS_TABLE3 = {  # Forgetting by alpha
    2: {"original": 0.21, "finetune": 0.26, "random_labels": 0.14},
    5: {"original": 0.38, "finetune": 0.51, "random_labels": 0.23},
    10: {"original": 0.60, "finetune": 0.69, "random_labels": 0.41},
    15: {"original": 0.70, "finetune": 0.78, "random_labels": 0.50},
    20: {"original": 0.76, "finetune": 0.83, "random_labels": 0.57},
    25: {"original": 0.80, "finetune": 0.86, "random_labels": 0.63},
    30: {"original": 0.83, "finetune": 0.88, "random_labels": 0.67},
    35: {"original": 0.85, "finetune": 0.89, "random_labels": 0.71},
}
THESIS_TABLES_4_6_7 = {  # Utility (Table 4), Forgetting (6), F (7) by unlearning epochs; MAE (Table 5) in published.py
    2: {"finetune": {"Utility": 1.25, "Forgetting": 0.75, "F": 0.93},
        "random_labels": {"Utility": 0.75, "Forgetting": 0.65, "F": 0.49}},
    4: {"finetune": {"Utility": 1.24, "Forgetting": 0.75, "F": 0.94},
        "random_labels": {"Utility": 0.41, "Forgetting": 0.249, "F": 0.10}},
    8: {"finetune": {"Utility": 1.21, "Forgetting": 0.78, "F": 0.95},
        "random_labels": {"Utility": 0.43, "Forgetting": 0.242, "F": 0.10}},
    16: {"finetune": {"Utility": 1.18, "Forgetting": 0.79, "F": 0.94},
         "random_labels": {"Utility": 0.45, "Forgetting": 0.246, "F": 0.11}},
}
THESIS_ORIGINAL = {"Utility": 1.28, "Forgetting": 0.672, "F": 0.86, "MAE": 4.81}  # beside Tables 4-7 (142 epochs)


@dataclass
class Sweep:
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


UTK3 = ["original", "finetune", "random_labels"]
EPOCHS = ["unlearn.methods.finetune.epochs.utk", "unlearn.methods.random_labels.epochs.utk"]
GROUPS = list(UTK_THESIS_TABLE8)  # the thesis' five age groups, in params order (data.utk.forget_groups)


def _epochs_published(n):
    return {"original": {**THESIS_ORIGINAL},
            **{m: {**THESIS_TABLES_4_6_7[n][m], "MAE": UTK_THESIS_TABLE5_MAE[m][n]} for m in UTK3[1:]}}


def _ltd_published(method, paper_value):
    """Seed 000 Table 1: Original and Retrain at every value, the method at the paper's own setting only."""
    def published(v):
        models = ["original", "retrain"] + ([method] if v == paper_value else [])
        return {m: {k: LTD_TABLE1[m][k] for k in ("MAE", "h-HC")} for m in models}
    return published


SWEEPS: dict[str, Sweep] = {
    "alpha": sweep("thesis Table 3: Forgetting vs its alpha (re-evaluation only)", "utk", ["evaluate.alpha"],
                   [2, 5, 10, 15, 20, 25, 30, 35], UTK3, ["Forgetting"],
                   lambda v: {m: {"Forgetting": THESIS_TABLE3[v][m]} for m in UTK3},
                   claim=("Forgetting", ["finetune", "original", "random_labels"])),
    "epochs": sweep("thesis Tables 4-7: unlearning epochs 2/4/8/16 of fine-tune and random labels", "utk", EPOCHS,
                    [2, 4, 8, 16], UTK3, ["Utility", "Forgetting", "F", "MAE"], _epochs_published,
                    claim=("F", ["finetune", "random_labels"]), logx=True, label="epochs"),
    "forget_group": sweep("thesis Table 8: forget groups 0-4 (ages 20-28, 28-36, 36-44, 44-52, 52-60)", "utk",
                          ["data.utk.forget_group"], range(len(GROUPS)), UTK3, ["Utility", "Forgetting", "F"],
                          lambda v: UTK_THESIS_TABLE8[GROUPS[v]],
                          claim=("F", ["finetune", "original", "random_labels"])),
    "prune_amount": sweep("seed 000 on LTD: Prune's share of zeroed weights (paper 0.95, code 0.99)", "ltd",
                          ["unlearn.methods.prune.amount"], [0.5, 0.8, 0.95, 0.99], ["original", "retrain", "prune"],
                          ["MAE", "MIA", "h-HC"], _ltd_published("prune", 0.95)),
    "confuse_sigma": sweep("seed 000 on LTD: Confuse's weight noise sigma (paper 0.05)", "ltd",
                           ["unlearn.sigma"], [0.01, 0.05, 0.1, 0.2],
                           ["original", "retrain", "confuse"], ["MAE", "MIA", "h-HC"], _ltd_published("confuse", 0.05)),
}


# ------------------------------------------------------------------ pure parts: commands, parsing, reports
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
              and parts[4] in params.get("tasks", {}))
        return "optional" if ok else "missing"


def check_keys(sw: Sweep, params: dict) -> None:
    missing = sorted({k for s in sw.settings for k in s if key_state(k, params) == "missing"})
    if missing:
        raise SystemExit(f"sweep needs {', '.join(missing)}: missing from params.yaml")


def exp_name(name: str, value) -> str:
    """``<sweep>-<value>`` made a valid git ref component."""
    s = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", f"{name}-{value}"))
    return s.strip(".")


def queue_commands(name: str, sw: Sweep, params: dict) -> list[list[str]]:
    cmds = []
    for v, setting in zip(sw.values, sw.settings):
        sets = [x for k, val in setting.items()
                for x in ("-S", f"{'+' if key_state(k, params) == 'optional' else ''}{k}={val}")]
        cmds.append(["dvc", "exp", "run", "--queue", "-n", exp_name(name, v), *sets, f"report@{sw.task}"])
    return cmds


def experiments(show: list) -> dict[str, dict]:
    """``dvc exp show --json`` -> {name: {rev, state, params, metrics}}; the newest one where a name repeats."""
    out = {}
    for base in show:
        for exp in base.get("experiments") or []:
            for r in exp.get("revs") or []:
                data = r.get("data") or {}
                rec = {"rev": r["rev"], "state": (exp.get("executor") or {}).get("state") or "success",
                       "timestamp": data.get("timestamp") or "", "params": data.get("params") or {},
                       "metrics": {p: (m or {}).get("data") or {} for p, m in (data.get("metrics") or {}).items()}}
                if rec["state"] == "success" and r.get("error"):
                    rec["state"] = "failed"
                name = r.get("name") or exp.get("name")
                if name and (name not in out or rec["timestamp"] > out[name]["timestamp"]):
                    out[name] = rec
    return out


def collect_rows(name: str, sw: Sweep, exps: dict, intervals: dict,
                 summaries: dict | None = None) -> tuple[list[dict], dict[str, str]]:
    """Tidy rows of every (value, model, metric) with an experiment, and {experiment: problem} for the others.
    Values: the experiment's ``summary.json`` (from ``summaries``, read from its commit, or its DVC metrics)."""
    rows, problems = [], {}
    for v, setting in zip(sw.values, sw.settings):
        exp, e = exp_name(name, v), exps.get(exp_name(name, v))
        summary = (summaries or {}).get(exp) or (e or {}).get("metrics", {}).get(f"reports/{sw.task}/summary.json")
        if e is None or e["state"] in ("queued", "running"):
            problems[exp] = "not run" if e is None else e["state"]
            continue
        if e["state"] != "success" or not summary:
            problems[exp] = f"failed: see `dvc queue logs {exp}`"
            continue
        got = {k: _param(e["params"], k) for k in setting}  # a name reused for other settings (SWEEPS edited)
        if got != setting:
            problems[exp] = f"ran with {got}, not {setting}: `dvc exp remove {exp}` and rerun"
            continue
        for model in sw.models:
            for metric in sw.metrics:
                iv = intervals.get(exp, {}).get(model, {}).get(metric) or {}
                pub = ((sw.published or {}).get(v) or {}).get(model, {}).get(metric)
                rows.append({"sweep": name, "setting": v, "model": model, "metric": metric,
                             "value": summary.get(model, {}).get(metric), "lo": iv.get("lo"), "hi": iv.get("hi"),
                             "published": pub, "experiment": exp})
    return rows, problems


def _param(params: dict, key: str):
    try:
        return config.get(params.get("params.yaml", {}).get("data", {}), key)
    except config.ParamError:
        return None


def _cell(rows, v, model, metric) -> dict | None:
    return next((r for r in rows if (r["setting"], r["model"], r["metric"]) == (v, model, metric)), None)


def apart(a: dict, b: dict, pairs: dict | None) -> bool:
    """Are cells a and b (two models of one experiment, one metric) told apart? By the interval of their paired
    difference when the experiment's ``paired.json`` has it (same runs and samples), else by disjoint intervals."""
    d = pair(pairs or {}, a["metric"], a["model"], b["model"])
    if d is not None and None not in d:
        return d[1] > 0 or d[2] < 0
    return None not in (a["lo"], b["lo"]) and separated((a["lo"], a["hi"]), (b["lo"], b["hi"]))


def order(cells: list[dict], pairs: dict | None = None) -> str:
    """Models by value, highest first: '>' where the paired difference excludes 0, '≈' where it does not."""
    cells = sorted((c for c in cells if c["value"] is not None), key=lambda c: -c["value"])
    text = ""
    for prev, c in zip([None, *cells], cells):
        if prev is not None:
            text += " > " if apart(prev, c, pairs) else " ≈ "
        text += f"{c['model']} {fmt(c['value'])}"
    return text


def verdict(a: dict, b: dict, pairs: dict | None = None) -> str:
    """'holds' when a lies above b (paired difference above 0), 'reversed' when below, else 'overlap'."""
    if None in (a["value"], b["value"]) or not apart(a, b, pairs):
        return "overlap"
    return "holds" if a["value"] > b["value"] else "reversed"


def reading(sw: Sweep, rows: list[dict], paired: dict | None = None) -> list[str]:
    """The order of the models per setting, and the paper's claim checked; ``paired``: experiment -> its
    ``paired.json`` (the paired differences every comparison reads)."""
    metric, expected = sw.claim or (sw.metrics[0], None)
    lines, tally = [], {"holds": [], "contradicted": [], "unresolved": []}
    for v in dict.fromkeys(r["setting"] for r in rows):
        cells = [c for m in sw.models if (c := _cell(rows, v, m, metric))]
        pp = (paired or {}).get(cells[0].get("experiment")) if cells else None
        line = f"- {sw.label} {v}: {metric} {order(cells, pp)}"
        if expected:
            by = {c["model"]: c for c in cells}
            pairs = [(a, b, verdict(by[a], by[b], pp)) for a, b in zip(expected, expected[1:])]
            if all(p[2] == "holds" for p in pairs):
                tally["holds"].append(v)
            elif any(p[2] == "reversed" for p in pairs):
                tally["contradicted"].append(v)
                line += "; contradicts the paper: " + ", ".join(f"{b} > {a}" for a, b, x in pairs if x == "reversed")
            else:
                tally["unresolved"].append(v)
                line += "; not told apart: " + ", ".join(f"{a} vs {b}" for a, b, x in pairs if x == "overlap")
        lines.append(line)
    if expected:
        claim = f"The paper's order {' > '.join(expected)} on {metric}"
        lines.append(f"\n{claim}, judged on the intervals: holds at {len(tally['holds'])} of "
                     f"{sum(map(len, tally.values()))} values" + "".join(
                         f"; {k} at {', '.join(map(str, vs))}" for k, vs in tally.items() if vs and k != "holds")
                     + ". A model is named above another only when the interval of their paired difference (same runs and "
                     "samples) excludes 0.")
    return lines


def table_md(name: str, sw: Sweep, rows: list[dict], problems: dict[str, str], paired: dict | None = None) -> str:
    keys = ", ".join(f"`{k}`" for k in sw.settings[0])
    out = [f"# Sweep `{name}`: {sw.doc}", "",
           f"Task `{sw.task}`, swept {keys}: one DVC experiment per value (`{exp_name(name, sw.values[0])}`, ...). "
           f"Each cell: the experiment's value, the mean over its `repeats` training runs, and [95 % interval] (the "
           f"interval over runs and samples), from `reports/{sw.task}/summary.json` and `intervals.json`. "
           "`published`: the paper's number at that setting ('-': none published)."]
    for metric in sw.metrics:
        pub = [m for m in sw.models if any(r["published"] is not None for r in rows
                                            if (r["model"], r["metric"]) == (m, metric))]
        head = [sw.label] + [c for m in sw.models for c in ([m, "published"] if m in pub else [m])]
        out += ["", f"## {metric}", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for v in sw.values:
            cells = [str(v)]
            for m in sw.models:
                c = _cell(rows, v, m, metric)
                cells.append(fmt_interval(c["value"], c["lo"], c["hi"]) if c else "-")
                if m in pub:
                    cells.append(fmt(c["published"]) if c else "-")
            out.append("| " + " | ".join(cells) + " |")
    out += ["", "## Reading", "", *reading(sw, rows, paired)]
    if problems:
        out += ["", "## Not collected", "", *(f"- `{e}`: {p}" for e, p in problems.items())]
    return "\n".join(out) + "\n"


def figure(name: str, sw: Sweep, rows: list[dict]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sw.metrics), figsize=(max(6.0, 4.2 * len(sw.metrics)), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], sw.metrics):
        for i, model in enumerate(sw.models):
            cells = [c for v in sw.values if (c := _cell(rows, v, model, metric)) and c["value"] is not None]
            xs, ys = [c["setting"] for c in cells], [c["value"] for c in cells]
            err = [[y - (c["lo"] if c["lo"] is not None else y) for y, c in zip(ys, cells)],
                   [(c["hi"] if c["hi"] is not None else y) - y for y, c in zip(ys, cells)]]
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, color=f"C{i}", label=model)
            pub = [(c["setting"], c["published"]) for c in cells if c["published"] is not None]
            if pub:
                ax.plot(*zip(*pub), ls="--", marker="x", color=f"C{i}", label=f"{model} (published)")
        ax.set(title=metric, xlabel=sw.label)
        if sw.logx:
            ax.set_xscale("log", base=2)
        ax.set_xticks(sw.values, [str(v) for v in sw.values])
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{sw.task}: sweep {name}" + (f" ({sw.label})" if sw.label != name else "")
                 + "; bars: 95 % intervals, dashed: published")
    fig.tight_layout()
    return fig


def write_reports(name: str, sw: Sweep, rows: list[dict], problems: dict, out: Path, paired: dict | None = None) -> None:
    import pandas as pd

    write_text(out / "table.md", table_md(name, sw, rows, problems, paired))
    write_csv(out / "results.csv", pd.DataFrame(rows, columns=["sweep", "setting", "model", "metric", "value", "lo",
                                                               "hi", "published", "experiment"]))
    save_figure(out / "figure.png", figure(name, sw, rows))


# ------------------------------------------------------------------ DVC: queue, run, wait, collect
def sh(*cmd: str, env=None) -> str:
    # files, not pipes: the queue worker that `dvc queue start` leaves running would hold a pipe open until it exits
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        rc = subprocess.run(cmd, stdout=out, stderr=err, text=True, env=env).returncode
        out.seek(0), err.seek(0)
        if rc:
            raise SystemExit(f"{' '.join(cmd)} failed ({rc}):\n{out.read()}{err.read()}")
        return out.read()


def exp_show(all_commits: bool = False) -> dict[str, dict]:
    return experiments(json.loads(sh("dvc", "exp", "show", "--json", *(["-A"] if all_commits else []))))


def queue_status() -> tuple[dict[str, set], int]:
    """``dvc queue status`` -> ({experiment name: its tasks' states}, number of running workers)."""
    states, workers, cols = {}, 0, None
    for line in sh("dvc", "queue", "status").splitlines():
        if m := re.match(r"Worker status: (\d+) active, (\d+) idle", line):
            workers = int(m[1]) + int(m[2])
        elif line.startswith("Task") and "Status" in line:  # columns are aligned under the header's words
            cols = line.index("Name"), line.index("Created")
        elif cols and (tok := line.split()) and tok[-1] in ("Queued", "Running", "Success", "Failed"):
            if name := line[cols[0]:cols[1]].strip():
                states.setdefault(name, set()).add(tok[-1])
    return states, workers


def start_workers(jobs: int, gpus: list[str]) -> None:
    """Start the queue workers; each stage they run learns from UNLEARN_JOBS how many share the CPU cores
    (:mod:`stages.core.threads`)."""
    if not gpus:
        print(sh("dvc", "queue", "start", "-j", str(jobs), env={**os.environ, threads.JOBS_VAR: str(jobs)}).strip())
        return
    shared = {**os.environ, threads.JOBS_VAR: str(len(gpus))}  # all GPU workers run at once
    for k, gpu in enumerate(gpus, 1):  # worker k from `-j k` in its own environment, once worker k-1 is up
        print(f"CUDA_VISIBLE_DEVICES={gpu}:", sh("dvc", "queue", "start", "-j", str(k),
                                                 env={**shared, "CUDA_VISIBLE_DEVICES": gpu}).strip())
        start = time.monotonic()
        while queue_status()[1] < k and time.monotonic() - start < 60:
            time.sleep(1)


def wait(name: str, names: list[str], poll: float, grace: float = 120) -> None:
    """Poll ``dvc queue status`` until none of ``names`` is queued or running (a bar over finished experiments)."""
    pending, idle_since = set(names), time.monotonic()
    with progress.bar(total=len(names), desc=f"sweep {name}", unit="exp") as bar:
        while pending:
            states, workers = queue_status()
            for n in sorted(pending):
                if states.get(n) and not states[n] & {"Queued", "Running"}:
                    pending.discard(n)
                    bar.update(1)
                    if "Failed" in states[n]:
                        print(f"experiment {n} failed: `dvc queue logs {n}`", file=sys.stderr)
            if workers or any("Running" in states.get(n, ()) for n in pending):
                idle_since = time.monotonic()
            elif pending and time.monotonic() - idle_since > grace:
                print(f"no queue worker running, still waiting for {', '.join(sorted(pending))}: start one "
                      f"(`dvc queue start`) and collect later with --collect", file=sys.stderr)
                return
            if pending:
                time.sleep(poll)


def collect(name: str, sw: Sweep, out: Path) -> int:
    exps = exp_show()
    if any(exp_name(name, v) not in exps for v in sw.values):  # run on an earlier commit?
        exps = {**exp_show(all_commits=True), **exps}
    files: dict[str, dict] = {"summary": {}, "intervals": {}, "paired": {}}
    for exp, e in exps.items():
        if exp.startswith(f"{name}-") and e["state"] == "success":
            for kind, got in files.items():  # the report's files as committed in the experiment
                r = subprocess.run(["git", "show", f"{e['rev']}:reports/{sw.task}/{kind}.json"],
                                   capture_output=True, text=True)
                got[exp] = json.loads(r.stdout) if r.returncode == 0 else {}
    rows, problems = collect_rows(name, sw, exps, files["intervals"], files["summary"])
    for exp, p in problems.items():
        print(f"{exp}: {p}", file=sys.stderr)
    if not rows:
        raise SystemExit(f"sweep {name}: no experiment to collect")
    write_reports(name, sw, rows, problems, out / name, files["paired"])
    print(f"wrote {out / name}/table.md, results.csv, figure.png ({len(sw.values) - len(problems)} of "
          f"{len(sw.values)} experiments)")
    return 1 if problems else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m stages.sweep", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Queue, run and collect the DVC experiments of a named sweep -> reports/sweeps/<name>/.",
        epilog="sweeps:\n" + "\n".join(f"  {n:<14} {s.doc}" for n, s in SWEEPS.items())
        + "\n\nOne GPU per worker: --gpus 0,1 starts worker k with CUDA_VISIBLE_DEVICES=<k-th id> (see docs/design.md, 'Sweeps').")
    p.add_argument("name", choices=list(SWEEPS), metavar="name", help="the sweep (listed below)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="queue workers: experiments run at a time (default 1)")
    p.add_argument("--gpus", default="", help="comma-separated GPU ids, one queue worker each (overrides -j)")
    p.add_argument("--dry-run", action="store_true", help="print the dvc exp run --queue commands and exit")
    p.add_argument("--collect", action="store_true", help="only collect the experiments that already ran")
    p.add_argument("--poll", type=float, default=10, help="seconds between dvc queue status polls")
    p.add_argument("--out", default="reports/sweeps", help="reports folder (default reports/sweeps)")
    args = p.parse_args(argv)
    name, sw = args.name, SWEEPS[args.name]
    params = config.read_params()
    check_keys(sw, params)
    cmds = queue_commands(name, sw, params)
    if args.dry_run:
        print("\n".join(" ".join(c) for c in cmds))
        return 0
    if not args.collect:
        exps, waiting = exp_show(), []
        for cmd in cmds:
            exp = cmd[cmd.index("-n") + 1]
            if exp in exps:
                print(f"{exp}: exists ({exps[exp]['state']}), reused, not queued again")
            else:
                sh(*cmd)
                print(f"{exp}: queued")
            if exp not in exps or exps[exp]["state"] in ("queued", "running"):
                waiting.append(exp)
        if waiting:
            gpus = [g for g in args.gpus.split(",") if g.strip()]
            start_workers(args.jobs, gpus)
            wait(name, waiting, args.poll)
    return collect(name, sw, Path(args.out))


if __name__ == "__main__":
    sys.exit(main())
