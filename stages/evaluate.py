"""Stage evaluate: every model of a task -> prediction metrics with 95 % intervals.

    python -m stages.evaluate --task ltd

For Original, Retrain and every method (``repeats`` runs each) it computes, per run, the task's metric family
(:mod:`stages.metrics.families`: errors, Forgetting, the membership attacks; the per-example attacks LiRA and RMIA
of :mod:`stages.metrics.per_example`, each run against Retrain's runs), the representation ``probe``
(:mod:`stages.metrics.probe`, on the saved penultimate features of held-out rows) and the deterministic cost
relative to Retrain (``cost_steps_vs_retrain``, ``cost_images_vs_retrain``: optimizer steps and images processed;
the measured wall time is not a metric, see stage report). Values are means over the runs; intervals come from
:mod:`stages.metrics.bootstrap`: Student-t over the runs plus the sampling part from ``evaluate.bootstrap`` draws
of the samples (``evaluate.bootstrap_attack`` for the attacks, ``evaluate.probe_splits`` random halves for the
probe), also for each method's paired difference to Retrain (``diff``) and distance |metric - Retrain's| (``gap``),
which the report's reading compares, and the paired difference of every two models (``paired``).

Writes ``reports/<task>/evaluation.json`` (per model and metric: value, lo, hi, per-run values, gap interval) and
``reports/<task>/loss_hist/<model>.csv`` (loss histograms of the two membership populations, repeat 0).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from stages import methods, tasks
from stages.core import config, paths
from stages.core import threads
from stages.core.config import Choice, Float, Int, ParamError
from stages.core.io import read_json, write_csv, write_json
from stages.core.seeds import derive_seed
from stages.core.stage import Stage
from stages.metrics import bootstrap, cost, families, per_example, probe

SCHEMA = {"alpha": Float(min=0, min_open=True), "mia_seed": Int(min=0), "mia_seeds": Int(min=1),
          "mia_splits": Int(min=2), "loss": Choice("abs", "squared"), "hist_bins": Int(min=2),
          "bootstrap": bootstrap.REPLICATES, "bootstrap_attack": Int(min=10), "probe_splits": Int(min=2),
          **per_example.SCHEMA}


def settings(params: dict) -> dict:
    """The validated ``evaluate`` section (the attack and probe replicates are a subset of the bootstrap's, the
    attack's point seeds a subset of its replicates' seeds)."""
    cfg = config.load("evaluate", SCHEMA, params)
    for key, most in (("bootstrap_attack", "bootstrap"), ("probe_splits", "bootstrap"),
                      ("mia_seeds", "bootstrap_attack")):
        if cfg[key] > cfg[most]:
            raise ParamError(f"evaluate.{key} = {cfg[key]}: at most evaluate.{most} ({cfg[most]})")
    cfg["per_example"] = per_example.settings(cfg)
    return cfg


def cost_runs(model_meta: dict, retrain_meta: dict) -> list[dict]:
    """Per repeat: optimizer steps and images processed as fractions of Retrain's (same repeat)."""
    out = []
    for r in range(len(model_meta["optimizer_steps"])):
        mm = {k: model_meta[k][r] for k in ("optimizer_steps", "images_seen")}
        rm = {k: retrain_meta[k][r] for k in ("optimizer_steps", "images_seen")}
        out.append({"cost_steps_vs_retrain": cost.steps_ratio(mm, rm), "cost_images_vs_retrain": cost.images_ratio(mm, rm)})
    return out


class Evaluation:
    """Everything evaluate computes for one task, model by model, on shared bootstrap draws."""

    def __init__(self, task, models: list[str], cfg: dict, repeats: int, seed: int, root=".", log=None):
        self.task, self.models, self.cfg, self.R, self.root, self.log = task, models, cfg, repeats, root, log
        self.family = families.get(task.EVALUATION)(task, cfg)
        self.seed = derive_seed(seed, task.name, "bootstrap")
        self.draws = bootstrap.draw(self.family.populations(), repeats, cfg["bootstrap"], self.seed)
        self.preds, self.meta, self.feats = {}, {}, {}
        for m in models:
            df = pd.read_csv(paths.model(task.name, m, "_preds.csv", root))
            have = sorted(df["repeat"].unique()) if "repeat" in df else [0]
            if have != list(range(repeats)):
                raise ValueError(f"{paths.model(task.name, m, '_preds.csv', root)}: repeats {have}, expected "
                                 f"0..{repeats - 1} (params repeats = {repeats}); rerun the model's stage")
            self.preds[m] = [self.family.prepare(df, r) for r in range(repeats)]
            self.meta[m] = read_json(paths.model(task.name, m, ".json", root))
            self.feats[m] = np.load(paths.model(task.name, m, "_features.npy", root)).astype(np.float32)
        # per-example attacks: every run's signals once; the TPR levels the held-out negatives can resolve
        self.signals = {m: [self.family.per_example(p) for p in self.preds[m]] for m in models}
        negatives = len(self.family.per_example_rows(None)[1]) if self.signals[models[0]][0] is not None else 0
        pe = cfg["per_example"]
        self.per_example_cfg = {**pe, "fprs": per_example.resolvable(pe["fprs"], negatives)}
        self.probe_y, self.probe_kind = task.probe_target(task.table(task.PROBE_SPLIT))
        probe.check_target(self.probe_y, self.probe_kind, task.where(task.PROBE_SPLIT))
        self.halves = [probe.halves(self.probe_y, self.probe_kind, derive_seed(self.seed, "probe", s))
                       for s in range(cfg["probe_splits"])]

    # one run (repeat r) of model m on samples idx (None: all); the stats the bootstrap calls
    def _metrics(self, m):
        return lambda r, idx: self.family.metrics(self.preds[m][r], self.preds["retrain"][r], idx)

    def _attacks(self, m, seed):
        return lambda r, idx: self.family.attacks(self.preds[m][r], self.preds["retrain"][r], idx, seed)

    def _per_example(self, m):
        """LiRA and RMIA of run r against Retrain's runs (all but r itself when m is Retrain) on samples idx."""
        def stat(r, idx):
            if self.signals[m][r] is None or "retrain" not in self.signals:
                return {}
            refs = [self.signals["retrain"][j] for j in per_example.references(self.R, r, leave_out=m == "retrain")]
            rows = self.family.per_example_rows(idx)
            return per_example.metrics(self.signals[m][r], refs, rows, self.per_example_cfg)
        return stat

    def _probe(self, m, s):
        a, b = self.halves[s]
        return lambda r, idx: {"probe": probe.score(self.feats[m][r], self.probe_y, self.probe_kind, a, b)}

    def model(self, m: str) -> tuple[dict, dict, dict]:
        """(values, per-run values, replicate arrays) of every metric of model ``m``."""
        cfg, d = self.cfg, self.draws
        values, runs = bootstrap.point(self._metrics(m), self.R)
        reps = bootstrap.replicates(self._metrics(m), d)
        # attacks: replicate b refits on its drawn samples with its own seed mia_seed + 1 + b (sub-sampling, CV
        # splits), every run; the value averages the attack on all samples over the first mia_seeds of those seeds,
        # the same estimator (one seed's sub-sample and splits are noise the replicates hold, not the value)
        seeds = [cfg["mia_seed"] + 1 + s for s in range(cfg["mia_seeds"])]
        v, rr = bootstrap.point(lambda r, idx: bootstrap.mean_dicts([self._attacks(m, s)(r, idx) for s in seeds]),
                                self.R)
        values.update(v), runs.update(rr)
        att = bootstrap.per_run(lambda b, r: self._attacks(m, cfg["mia_seed"] + 1 + b)(r, d.replicate(b)[1]),
                                cfg["bootstrap_attack"], self.R)
        reps.update(att)
        # per-example attacks: no fit, no seed; every run on all samples and on every bootstrap replicate
        v, rr = bootstrap.point(self._per_example(m), self.R)
        values.update(v), runs.update(rr)
        reps.update(bootstrap.replicates(self._per_example(m), d))
        # probe: every random half split with every run for the value; the splits are its sampling replicates
        per_split = [bootstrap.point(self._probe(m, s), self.R) for s in range(len(self.halves))]
        values["probe"] = float(np.mean([p[0]["probe"] for p in per_split]))
        runs["probe"] = [float(np.mean([p[1]["probe"][r] for p in per_split])) for r in range(self.R)]
        reps["probe"] = np.asarray([p[1]["probe"] for p in per_split], dtype=np.float64)  # (splits, R)
        # cost: deterministic per run; its interval spans the runs only
        c = cost_runs(self.meta[m], self.meta["retrain"])
        values.update(bootstrap.mean_dicts(c)), runs.update({k: [x[k] for x in c] for k in c[0]})
        for k in c[0]:
            reps[k] = np.tile([x[k] for x in c], (d.n, 1)).astype(np.float64)
        return values, runs, reps

    def run(self) -> tuple[dict, dict]:
        """evaluation.json's models and the loss histograms (repeat 0) per model."""
        values, runs, reps, hists = {}, {}, {}, {}
        # models in parallel processes (each is deterministic on its own: the draws and seeds are fixed here)
        done = Parallel(n_jobs=threads.workers(2))(delayed(self.model)(m) for m in self.models)
        for m, (values[m], runs[m], reps[m]) in zip(self.models, done):
            hists[m] = self.family.histogram(self.preds[m][0])
            if self.log:
                self.log.info("%s/%s: %s", self.task.name, m, {k: round(v, 4) for k, v in values[m].items()})
        ranked = [m for m in self.models if m not in paths.REFERENCE_MODELS]
        # the Original too: does a metric tell it from Retrain?
        return bootstrap.records(values, runs, reps, rank=ranked), bootstrap.paired(runs, reps, self.models), hists


def main(argv=None):
    st = Stage("evaluate", __doc__, argv, root=True, task=dict(required=True))
    task = tasks.get(st.args.task, st.params, st.root)
    cfg = settings(st.params)
    models = methods.task_models(st.params, task)
    ev = Evaluation(task, models, cfg, task.repeats, st.glob["seed"], st.root, st.log)
    out, pairs, hists = ev.run()
    write_json(paths.evaluation(task.name, st.root),
               {"task": task.name, "repeats": task.repeats, "populations": ev.family.populations(),
                "probe": {"split": task.PROBE_SPLIT, "kind": ev.probe_kind, "samples": len(ev.probe_y)},
                "bootstrap": {k: cfg[k] for k in ("bootstrap", "bootstrap_attack", "probe_splits")},
                "legend": ev.family.LEGEND, "models": out, "paired": pairs})
    for m, h in hists.items():
        write_csv(paths.loss_hist(task.name, m, st.root), h, float_format="%.6g")


if __name__ == "__main__":
    main()
