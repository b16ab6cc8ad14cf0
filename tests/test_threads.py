"""stages.core.threads: a stage's share of the cores (affinity // UNLEARN_JOBS, OMP_NUM_THREADS wins, at least 1),
the pool sizes drawn from it, torch set to it, and the sweep handing its -j to the queue workers."""
from __future__ import annotations

import os

import pytest
import torch

from stages.sweeps import dvc_cli, queue
from stages.core import threads


@pytest.fixture
def machine(monkeypatch):
    """Pretend the process may run on ``n`` cores, with UNLEARN_JOBS and OMP_NUM_THREADS as given (None: unset)."""
    def set_up(n: int, jobs: str | None = None, omp: str | None = None):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(n)), raising=False)
        monkeypatch.setattr(os, "cpu_count", lambda: 999)  # the affinity counts, not the machine's cores
        for var, value in ((threads.JOBS_VAR, jobs), (threads.OMP_VAR, omp)):
            if value is None:
                monkeypatch.delenv(var, raising=False)
            else:
                monkeypatch.setenv(var, value)
    return set_up


@pytest.mark.parametrize("n, jobs, omp, expected", [
    (2, None, None, 2),    # a stage alone: every core it may use, as before
    (2, "", None, 2),      # empty: unset
    (2, "1", None, 2),
    (2, "2", None, 1),     # two stages on two cores: one each
    (16, "3", None, 5),    # rounded down: 3 x 5 <= 16
    (16, "4", None, 4),
    (2, "3", None, 1),     # more stages than cores: still 1
    (16, None, "3", 3),    # OMP_NUM_THREADS wins over the cores ...
    (16, "4", "3", 3),     # ... and over UNLEARN_JOBS
    (2, None, "8", 8),     # ... even above the cores (the user asked)
    (16, None, "6,2", 6),  # an OpenMP list per nesting level: the outer one
])
def test_thread_count(machine, n, jobs, omp, expected):
    machine(n, jobs, omp)
    assert threads.count() == expected
    assert threads.budget()[0] == expected


def test_reason_names_what_decided(machine):
    machine(16, "3")
    assert threads.budget() == (5, "16 cores // UNLEARN_JOBS=3")
    machine(2)
    assert threads.budget() == (2, "2 cores // UNLEARN_JOBS unset")
    machine(16, "3", "7")
    assert threads.budget() == (7, "OMP_NUM_THREADS=7")


def test_no_affinity_falls_back_to_cpu_count(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    monkeypatch.setenv(threads.JOBS_VAR, "2")
    monkeypatch.delenv(threads.OMP_VAR, raising=False)
    assert threads.count() == 3


@pytest.mark.parametrize("var, value", [
    ("UNLEARN_JOBS", "0"), ("UNLEARN_JOBS", "x"), ("UNLEARN_JOBS", "-2"), ("UNLEARN_JOBS", "1.5"),
    ("OMP_NUM_THREADS", "0"), ("OMP_NUM_THREADS", "many"),
])
def test_bad_value_names_the_variable(machine, var, value):
    machine(4, **{"jobs" if var == "UNLEARN_JOBS" else "omp": value})
    with pytest.raises(ValueError, match=rf"^{var}='{value}': expected a whole number >= 1"):
        threads.count()


def test_bad_jobs_value_fails_even_when_omp_wins(machine):
    machine(4, "0", "2")
    with pytest.raises(ValueError, match="UNLEARN_JOBS"):
        threads.count()


@pytest.mark.parametrize("n, jobs, cap, expected", [
    (16, None, 8, 8), (16, "4", 8, 4), (2, None, 8, 2), (2, "2", 2, 1), (16, "3", None, 5), (4, None, 0, 1),
])
def test_workers(machine, n, jobs, cap, expected):
    machine(n, jobs)
    assert threads.workers(cap) == expected


def test_deterministic_torch_keeps_the_threads_in_force(machine, caplog):
    """The training stages' switch to deterministic math reports the thread count the stage runs with and never
    applies the budget a second time (Stage has applied it)."""
    machine(16, "4")  # a budget of 4, which must not be applied again
    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        torch.set_num_threads(3)
        with caplog.at_level("INFO", logger="stages.core.threads"):
            assert threads.deterministic_torch() == 3
        assert torch.get_num_threads() == 3 and torch.are_deterministic_algorithms_enabled()
        assert "torch: deterministic algorithms, 3 threads" in caplog.text and "threads: 4" not in caplog.text
    finally:
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])


def test_every_pool_keeps_to_the_budget(machine):
    """Two stages on two cores: torch, and the BLAS and OpenMP pools numpy, scipy and scikit-learn load, one thread
    each (left alone, those pools take every core and two such stages run four busy threads on two cores)."""
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS)
    import sklearn.linear_model  # noqa: F401  (loads scikit-learn's OpenMP)
    from threadpoolctl import threadpool_info, threadpool_limits

    machine(2, "2")
    before = torch.get_num_threads(), threadpool_info()
    try:
        assert threads.apply() == (1, "2 cores // UNLEARN_JOBS=2")
        pools = threadpool_info()
        assert {p["user_api"] for p in pools} >= {"blas", "openmp"}
        assert [p["num_threads"] for p in pools] == [1] * len(pools) and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before[0])
        for pool in before[1]:
            threadpool_limits(pool["num_threads"], user_api=pool["user_api"])


def test_the_budget_leaves_the_environment_alone(machine, monkeypatch):
    """The budget is set on the loaded pools, never through the environment: joblib's workers (scikit-learn's
    n_jobs in the membership attacks) give each of their BLAS / OpenMP pools cores // workers threads unless a
    variable such as OPENBLAS_NUM_THREADS names a size, which every worker would then take in full (two workers of
    two threads each on two cores ran evaluate several times slower)."""
    pool_vars = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                 "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "OPENCV_FOR_THREADS_NUM")
    from threadpoolctl import threadpool_info, threadpool_limits

    for var in pool_vars:
        monkeypatch.delenv(var, raising=False)
    machine(2)
    before = torch.get_num_threads(), threadpool_info()
    try:
        threads.apply()
        assert [v for v in pool_vars if v in os.environ] == []
    finally:
        torch.set_num_threads(before[0])
        for pool in before[1]:
            threadpool_limits(pool["num_threads"], user_api=pool["user_api"])


def test_a_stage_applies_the_budget(machine, tmp_path, monkeypatch):
    """Every stage, not only the training ones, keeps to its share: :class:`Stage` applies it, and the training
    stages' deterministic switch then runs torch at that share."""
    import shutil

    from stages.core.stage import Stage
    from tests.conftest import ROOT

    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    machine(2, "2")
    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        torch.set_num_threads(2)
        Stage("report", None, [])
        assert torch.get_num_threads() == 1
        assert threads.deterministic_torch() == 1
    finally:
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])


def test_sweep_hands_its_jobs_to_the_queue_workers(monkeypatch):
    calls = []
    monkeypatch.setattr(dvc_cli, "sh", lambda *cmd, env=None: calls.append((cmd, dict(env or os.environ))) or "")
    monkeypatch.setenv(threads.JOBS_VAR, "7")  # the sweep's -j decides, not what the shell had
    queue.start_workers(3, [])
    assert [(c, e[threads.JOBS_VAR]) for c, e in calls] == [(("dvc", "queue", "start", "-j", "3"), "3")]

    calls.clear()
    monkeypatch.setattr(dvc_cli, "queue_status", lambda: ({}, len(calls)))
    queue.start_workers(1, ["2", "5"])  # one worker per GPU, all at once: both get UNLEARN_JOBS=2
    assert [(c[3:], e[threads.JOBS_VAR], e["CUDA_VISIBLE_DEVICES"]) for c, e in calls] == [
        (("-j", "1"), "2", "2"), (("-j", "2"), "2", "5")]
