"""Paired comparisons: every "a vs b" statement of the reports, the sweeps and the multi-agent table reads the
interval of the paired difference a - b over the same runs and samples (bootstrap.paired), not whether two
intervals overlap; and the DVC metrics are the short headline (verdict counts), not every number."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from stages import agents_table, report
from stages.sweeps import catalog, reading
from stages.metrics import bootstrap, verdict


def test_paired_matches_a_hand_computation():
    runs = {"a": {"X": [1.0, 2.0, 3.0]}, "b": {"X": [0.0, 0.0, 1.0]}}
    reps = {"a": {}, "b": {}}  # no sampling part: the run-to-run part alone
    got = bootstrap.paired(runs, reps, ["a", "b"])
    # differences 1, 2, 2: mean 5/3, sd sqrt(1/3), half-width t(0.975, 2) * sd / sqrt(3)
    half = stats.t.ppf(0.975, 2) * np.sqrt(1 / 3) / np.sqrt(3)
    d, lo, hi = got["X"]["a - b"]
    six = 5e-6  # the files hold 6 significant digits: at most half a unit of the 6th, relative
    assert d == pytest.approx(5 / 3, rel=six) and lo == pytest.approx(5 / 3 - half, rel=six)
    assert hi == pytest.approx(5 / 3 + half, rel=six)
    assert bootstrap.pair(got, "X", "b", "a") == pytest.approx((-d, -hi, -lo))
    assert bootstrap.pair(got, "Y", "a", "b") is None


def test_paired_removes_the_shared_sampling_part():
    """Two models whose replicates move together (the same samples): their own intervals are wide, the paired
    difference's is narrow and excludes 0."""
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 1.0, (200, 1))
    runs = {"a": {"X": [0.5, 0.5]}, "b": {"X": [0.4, 0.4]}}
    reps = {"a": {"X": 0.5 + shared + rng.normal(0, 0.001, (200, 2))},
            "b": {"X": 0.4 + shared + rng.normal(0, 0.001, (200, 2))}}
    rec = bootstrap.records({"a": {"X": 0.5}, "b": {"X": 0.4}}, runs, reps, reference="b")
    assert rec["a"]["X"]["hi"] - rec["a"]["X"]["lo"] > 3.0                 # own interval: the shared part
    d, lo, hi = bootstrap.paired(runs, reps, ["a", "b"])["X"]["a - b"]
    assert d == pytest.approx(0.1) and 0.09 < lo < hi < 0.11


def _cells(v, a, b):
    return [{"setting": v, "model": "finetune", "metric": "F", "value": a[0], "lo": a[1], "hi": a[2],
             "experiment": f"x-{v}"},
            {"setting": v, "model": "original", "metric": "F", "value": b[0], "lo": b[1], "hi": b[2],
             "experiment": f"x-{v}"}]


def test_sweep_reading_uses_the_paired_difference():
    sw = catalog.sweep("x", "utk", ["evaluate.alpha"], [1, 2], ["finetune", "original"], ["F"], claim=("F", ["finetune", "original"]), label="x")
    rows = _cells(1, (0.55, 0.4, 0.7), (0.5, 0.35, 0.65)) + _cells(2, (0.55, 0.4, 0.7), (0.5, 0.35, 0.65))
    paired = {"x-1": {"F": {"original - finetune": [-0.05, -0.06, -0.04]}},   # apart: the pair moves together
              "x-2": {"F": {"original - finetune": [-0.05, -0.2, 0.1]}}}      # not apart
    text = "\n".join(reading.reading(sw, rows, paired))
    assert "- x 1: F finetune 0.550 > original 0.500\n" in text
    assert "- x 2: F finetune 0.550 ≈ original 0.500; not told apart: finetune vs original" in text
    assert "holds at 1 of 2 values; unresolved at 2." in text
    # without paired.json (an old experiment): the intervals, which overlap here
    assert "unresolved at 1, 2" in "\n".join(reading.reading(sw, rows))


def test_agents_table_reads_the_paired_difference():
    rows = [("original", "o", {}, {}), ("retrain", "r", {}, {}), ("finetune", "MASMU", {}, {})]
    pairs = {"MIA": {"retrain - finetune": [-0.1, -0.15, -0.05]}, "completeness": {"retrain - finetune": [0.0, -0.1, 0.1]}}
    line = agents_table.reading(rows, pairs)[0]
    assert line.startswith("- MASMU: MIA differs from Retrain's (paired difference 0.100 [0.0500, 0.150])")
    assert "completeness is not told apart from Retrain's" in line


def test_headline_counts_the_verdicts():
    v = {"finetune": {"utility": {"verdict": verdict.APPROX}, "forgetting": {"verdict": verdict.PLUS},
                      "membership": {"verdict": verdict.UNRESOLVED}, "cost": {"value": 0.25}},
         "original": {"utility": {"verdict": verdict.APPROX}, "forgetting": {"verdict": verdict.MINUS},
                      "membership": {"verdict": verdict.MINUS}, "cost": {"value": None}}}
    records = {"retrain": {"TA": {"value": 0.9}, "FA": {"value": 0.0}, "MIA": {"value": 0.5}}}
    axes = {"utility": "TA", "forgetting": "FA", "membership": "MIA", "cost": "cost_images_vs_retrain"}
    h = report.headline(v, records, axes)
    assert h["finetune"] == {"approx_retrain": 1, "differs": 1} and h["original"] == {"approx_retrain": 1, "differs": 2}
    assert h["retrain"] == {"TA": 0.9, "FA": 0.0, "MIA": 0.5}
