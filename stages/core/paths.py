"""Every file path of the pipeline, in one place (dvc.yaml spells the same layout).

    data/prepared/<dataset>/                prepared arrays of a dataset (prepare stages)
    data/tasks/<task>/task.json             a forget request made concrete (stage ``task``): dataset pin, roles
    data/tasks/<task>/attributions.npy      the Original's attribution vectors per training image (``attributions``)
    models/datasets/<dataset>/original.*    the Original of a dataset (stage ``train``), shared by its tasks
    models/<task>/<model>.{pt,json}         the models of a task: original (copy), retrain, one per method
    models/<task>/<model>_preds.csv         their raw predictions on the evaluation splits
    data/xai/<task>/subset.*                the explanation subset of a task
    data/xai/<task>/<explainer>/<model>.npy heatmaps (B, H, W) float32
    reports/<task>/...                      metrics, curves, figures, tables

Every function takes an optional ``root`` (the project root) so tests can run in a temporary folder.
"""
from __future__ import annotations

from pathlib import Path

REFERENCE_MODELS = ("original", "retrain")


def prepared(dataset: str, root=".") -> Path:
    return Path(root) / "data" / "prepared" / dataset


def task_dir(task: str, root=".") -> Path:
    return Path(root) / "data" / "tasks" / task


def task_json(task: str, root=".") -> Path:
    return task_dir(task, root) / "task.json"


def attributions(task: str, root=".") -> Path:
    """(repeats, training rows, grid cells) float32: the attribution vector of every training image under each run
    of the task's Original (stage ``attributions``; IMU's input)."""
    return task_dir(task, root) / "attributions.npy"


def attributions_cost(task: str, root=".") -> Path:
    """What computing :func:`attributions` cost: images through the Original per run (IMU counts them in its cost)."""
    return task_dir(task, root) / "attributions.json"


def dataset_model(dataset: str, suffix: str = ".pt", root=".") -> Path:
    """The Original of a dataset: ``suffix`` .pt (weights), .json (metadata) or _preds.csv."""
    return Path(root) / "models" / "datasets" / dataset / f"original{suffix}"


def model(task: str, name: str, suffix: str = ".pt", root=".") -> Path:
    """Model ``name`` of ``task``: ``suffix`` .pt (weights), .json (metadata) or _preds.csv (predictions)."""
    return Path(root) / "models" / task / f"{name}{suffix}"


def curve(task: str, name: str, root=".") -> Path:
    return Path(root) / "reports" / task / "curves" / f"{name}.csv"


def xai_dir(task: str, root=".") -> Path:
    return Path(root) / "data" / "xai" / task


def heatmaps(task: str, explainer: str, name: str, root=".") -> Path:
    return xai_dir(task, root) / explainer / f"{name}.npy"


def reports(task: str, root=".") -> Path:
    return Path(root) / "reports" / task


def evaluation(task: str, root=".") -> Path:
    """Prediction metrics of every model of a task with their intervals (stage evaluate)."""
    return reports(task, root) / "evaluation.json"


def loss_hist(task: str, name: str, root=".") -> Path:
    return reports(task, root) / "loss_hist" / f"{name}.csv"


def xai_metrics(task: str, explainer: str, root=".") -> Path:
    return reports(task, root) / "xai" / f"{explainer}.json"


def timing(owner: str, name: str, root=".") -> Path:
    """Measured wall time of model ``name`` (owner: its task, or the dataset for an Original). Not a DVC output:
    times differ from run to run, so nothing DVC caches or compares holds them."""
    return Path(root) / "reports" / owner / "timings" / f"{name}.json"


def data_reports(root=".") -> Path:
    """Statistics of the prepared datasets: <dataset>_stats.json and the figures folder <dataset>/ (stage prepare)."""
    return Path(root) / "reports" / "data"


def figures(task: str, root=".") -> Path:
    """The report's figures of a task (stage report)."""
    return reports(task, root) / "figures"


def heatmap_figures(task: str, root=".") -> Path:
    """The heatmap grids and differences of every explainer of a task (stage explain_report)."""
    return reports(task, root) / "heatmaps"
