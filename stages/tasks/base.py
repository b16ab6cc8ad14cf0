"""A task: a dataset plus a forget request. The one place that knows targets, forget sets, heads and metrics.

A task plugin is a module ``stages/tasks/<name>.py`` defining one subclass of :class:`Task` under a name of its own,
usually through :class:`RegressionTask` or :class:`ClassificationTask` (``class LTDCounting(base.RegressionTask)`` in
``ltd.py``); ``params.yaml`` lists it by the module's name under ``tasks:`` with the dataset it reads. Several tasks may
read one dataset (e.g. two forget requests on the same digits); they then share its Original model, so
everything the Original depends on (``original_target``, the head, the loss) is a property of the dataset
and must agree between them.

Data roles a method may ask for (:meth:`Task.role`):

- ``retain``: training rows that must remain, with their retain target (what Retrain learns);
- ``forget``: training rows to forget, with the target the Original learned on them (the information to remove);
- ``full``: every training row with the retain target and the forget mask (methods that relabel the forget set);
- ``val``: validation rows for model selection of the unlearned models (retain rows, retain target);
- ``test``: the whole test split with the retain target;
- ``heldout_like_forget``: held-out (test) rows of the same kind as the forget set, with the Original's target
  (the membership attack's non-members).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from stages.core import paths
from stages.data import arrays
from stages.core.model_selection import mae_score

ROLES = ("retain", "forget", "full", "val", "test", "heldout_like_forget")


@dataclass
class Data:
    """Rows of one split chosen for a role: uint8 images (N, C, H, W), targets, forget mask, row indices."""
    x: np.ndarray
    y: np.ndarray
    forget: np.ndarray
    rows: np.ndarray
    split: str


@dataclass
class TaskData:
    """What one training run needs: training and validation images and targets, forget mask of the training rows."""
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    forget: np.ndarray
    meta: dict
    target_range: tuple[float, float]


# the membership axis' candidates, strongest expected first: the per-example attacks (stages/metrics/per_example.py),
# then the population attack; the verdict reads the strongest that tells the Original from Retrain
MEMBERSHIP = ("RMIA_AUC", "LiRA_AUC", "MIA")
# the per-example attacks' columns in table.md (a TPR is absent where the held-out negatives are too few)
PER_EXAMPLE_COLUMNS = ("LiRA_AUC", "RMIA_AUC", "RMIA_TPR@1%FPR", "RMIA_TPR@5%FPR")


class Task:
    PARAMS: dict = {}             # schema of the task's own keys in its task-list entry (besides ``dataset``)
    TRACK = "per_model"           # how its models are made: its list of params.yaml's tracks: (stages.tasks.TRACKS)
    METHODS = "unlearn.methods"   # the list of unlearning methods run on the task
    EXPLAINERS = "explainers"     # the list of explainers run on it
    RECIPE: str | None = None     # params key of the Original's and Retrain's recipe (None: train.<dataset>)
    OWN_ORIGINAL = False          # True: the task trains its own Original (models/<task>/original.*) instead of
                                  # sharing its dataset's (models/datasets/<dataset>/original.*)
    EVAL_SPLITS = ("train", "test")  # splits every model predicts once (models/<task>/<model>_preds.csv)
    PROBE_SPLIT = "test"          # held-out split whose penultimate features every model saves (the probe)
    VAL_METRIC = "val_loss"       # name of the model-selection metric (lower is better)
    MIN_ROWS: dict = {}           # data role -> rows the task needs at least (stage task stops naming the role), beyond
                                  # stages.task.MIN_ROWS

    def __init__(self, name: str, cfg: dict, params: dict, root="."):
        self.name, self.cfg, self.params, self.root = name, cfg, params, root
        self.dataset = cfg["dataset"]
        self._splits: dict = {}

    @property
    def recipe_key(self) -> str:
        return self.RECIPE or f"train.{self.dataset}"

    @property
    def original_owner(self) -> str:
        """Whose Original this task starts from: its own name or its dataset's (paths.timing, paths.curve)."""
        return self.name if self.OWN_ORIGINAL else self.dataset

    def original_path(self, suffix: str = ".pt"):
        """Where that Original is written: ``models/<task>/original*`` (its own, stage train --task) or
        ``models/datasets/<dataset>/original*`` (its dataset's, which stage task copies into the task's folder)."""
        if self.OWN_ORIGINAL:
            return paths.model(self.name, "original", suffix, self.root)
        return paths.dataset_model(self.dataset, suffix, self.root)

    # ------------------------------------------------------------------ dataset
    @cached_property
    def meta(self) -> dict:
        return arrays.load_meta(self.dataset, paths.prepared(self.dataset, self.root).parent)

    def split(self, split: str) -> arrays.Split:
        if split not in self._splits:
            self._splits[split] = arrays.load_split(self.dataset, split, paths.prepared(self.dataset, self.root).parent)
        return self._splits[split]

    def table(self, split: str) -> pd.DataFrame:
        return self.split(split).table

    def where(self, split: str, suffix: str = ".csv") -> str:
        """The file of a split, for messages."""
        return str(paths.prepared(self.dataset, self.root) / f"{split}{suffix}")

    # ------------------------------------------------------------------ the forget request (subclasses)
    def original_target(self, table: pd.DataFrame) -> np.ndarray:
        """What the Original learns on these rows (a property of the dataset)."""
        raise NotImplementedError

    def retain_target(self, table: pd.DataFrame) -> np.ndarray:
        """What must remain: the target Retrain and the unlearned models learn."""
        raise NotImplementedError

    def forget_rows(self, table: pd.DataFrame) -> np.ndarray:
        """Bool per row: the row is of the forget kind (training split: the forget set)."""
        raise NotImplementedError

    def retain_rows(self, table: pd.DataFrame) -> np.ndarray:
        """Bool per row: the row stays in the retain set (default: every row outside the forget set)."""
        return ~self.forget_rows(table)

    def request(self) -> dict:
        """The forget request in words and numbers, for task.json and the reports."""
        return {}

    # ------------------------------------------------------------------ roles
    def _data(self, split: str, mask: np.ndarray, target) -> Data:
        s = self.split(split)
        rows = np.flatnonzero(mask)
        t = s.table.iloc[rows]
        return Data(s.images[rows], np.asarray(target(t)), self.forget_rows(t), rows, split)

    def role(self, name: str) -> Data:
        if name not in ROLES:
            raise ValueError(f"unknown data role {name!r} (known: {', '.join(ROLES)})")
        split = {"val": "val", "test": "test", "heldout_like_forget": "test"}.get(name, "train")
        t = self.table(split)
        every = np.ones(len(t), bool)
        mask, target = {
            "retain": (self.retain_rows(t), self.retain_target),
            "forget": (self.forget_rows(t), self.original_target),
            "full": (every, self.retain_target),
            "val": (self.retain_rows(t), self.retain_target),
            "test": (every, self.retain_target),
            "heldout_like_forget": (self.forget_rows(t), self.original_target),
        }[name]
        return self._data(split, mask, target)

    def training_data(self, model: str, role: str = "retain") -> TaskData:
        """Training and validation data of ``model``: ``original`` (the dataset's full target), else ``role``."""
        if model == "original":
            tr, va = self.table("train"), self.table("val")
            return TaskData(self.split("train").images, self.original_target(tr), self.split("val").images,
                            self.original_target(va), self.forget_rows(tr), self.meta, self.target_range)
        d, v = self.role(role), self.role("val")
        return TaskData(d.x, d.y, v.x, v.y, d.forget, self.meta, self.target_range)

    # ------------------------------------------------------------------ model (subclasses)
    @property
    def target_range(self) -> tuple[float, float]:
        return (-np.inf, np.inf)

    def model_spec(self, cfg: dict) -> dict:
        """Network spec from the training recipe ``train.<dataset>``: arch, input channels, output width, head."""
        raise NotImplementedError

    def init_output(self, model, train_y) -> None:
        """Optional head initialisation before training from scratch."""

    # torch is imported where it is used, so that the light stages (evaluate, report, ...) start without it
    def loss(self, out, y):
        """Training loss of a batch (scalar)."""
        raise NotImplementedError

    def per_sample_loss(self, out, y):
        raise NotImplementedError

    def val_score(self, pred: np.ndarray, y: np.ndarray) -> float:
        """Model selection on validation (lower is better)."""
        raise NotImplementedError

    def target_tensor(self, y):
        import torch

        return torch.as_tensor(np.asarray(y, np.float32))

    def explain_target(self, table: pd.DataFrame):
        """What an explainer explains for the images of these rows: None = the model's only output (regression); a
        classifier's true class (:class:`ClassificationTask`)."""
        return None

    def shift_target(self, y, offset):
        """Targets moved by ``offset`` (random labels), kept in the task's target range."""
        return (y + offset).clamp(*self.target_range)

    # ------------------------------------------------------------------ evaluation (subclasses)
    REPORT_COLUMNS: tuple = ()    # metrics shown in table.md, in order
    # the verdict table's axes (stages/metrics/verdict.py): axis -> the metric it reads, or a tuple of candidates
    VERDICT_AXES: dict = {}
    BAR_COLUMNS: tuple = ()       # metrics drawn in metric_bars.png

    EVALUATION: str = ""          # metric family computing this task's metrics (stages/metrics/families/<name>.py)
    PUBLISHED: str | None = None  # key of the published tables shown beside ours (stages/metrics/published.py)

    def title(self) -> str:
        return self.name

    def probe_target(self, table: pd.DataFrame) -> tuple[np.ndarray, str]:
        """What the representation probe predicts from a model's features on held-out rows, and how it is scored
        (:mod:`stages.metrics.probe`): by default whether a row is of the forget kind (balanced accuracy)."""
        return self.forget_rows(table).astype(int), "balanced_accuracy"

    # ------------------------------------------------------------------ explanations
    def select_subset(self, n: int, seed: int) -> np.ndarray:
        """Row indices into the test split of the fixed explanation subset (deterministic from ``seed``)."""
        raise NotImplementedError

    def subset_boxes(self, rows: np.ndarray) -> pd.DataFrame | None:
        """Annotated boxes of the chosen rows (column ``row`` indexes the subset), or None."""
        return None

    def coverage_classes(self) -> dict[str, tuple[str, ...]]:
        """Heatmap-coverage metrics: metric name -> box classes whose union is the mask (e.g. h-HC: human)."""
        return {}

    def display_labels(self, table: pd.DataFrame) -> list[str]:
        """One short label per explanation-subset row for the figures."""
        return [f"#{r}" for r in table["test_row"]]


class RegressionTask(Task):
    """One scalar output; loss ``train.<dataset>.loss`` (mse | mae); model selection on validation MAE."""
    VAL_METRIC = "val_mae"

    @property
    def recipe(self) -> dict:
        return self.params["train"][self.dataset]

    def model_spec(self, cfg: dict) -> dict:
        return {"arch": cfg["arch"], "stem": cfg["stem"], "width": cfg["width"], "in_channels": self.meta["channels"],
                "outputs": 1, "head": cfg["head"], "target_max": float(self.target_range[1])}

    def init_output(self, model, train_y) -> None:
        model.init_output(float(np.mean(train_y)))

    def loss(self, out, y):
        from torch.nn import functional as F

        return (F.l1_loss if self.recipe["loss"] == "mae" else F.mse_loss)(out, y)

    def per_sample_loss(self, out, y):
        d = out - y
        return d.abs() if self.recipe["loss"] == "mae" else d * d

    def val_score(self, pred, y) -> float:
        return mae_score(pred, y)



class ClassificationTask(Task):
    """K classes (``label`` column of the prepared tables); cross-entropy; model selection on validation error
    (1 - accuracy). The forget request chooses rows (a random share, or a class); targets never change."""
    VAL_METRIC = "val_error"
    EVALUATION = "classification"     # stages/metrics/families/classification.py
    REPORT_COLUMNS = ("TA", "RA", "FA", "completeness", "MIA", "MIA_vs_all_test", "MIA_efficacy", *PER_EXAMPLE_COLUMNS,
                      "probe", "AS", "cost_steps_vs_retrain")
    BAR_COLUMNS = ("TA", "FA", "completeness", "MIA")
    VERDICT_AXES = {"utility": "TA", "forgetting": "FA", "membership": MEMBERSHIP, "representation": "probe",
                    "heatmaps": "AS", "cost": "cost_images_vs_retrain"}

    @property
    def classes(self) -> int:
        return int(self.meta["classes"])

    @property
    def class_names(self) -> list[str]:
        return list(self.meta.get("class_names") or map(str, range(self.classes)))

    def original_target(self, table):
        require(table, ("label",), "table")
        return table["label"].to_numpy(np.int64)

    retain_target = original_target   # labels stay labels: the retain set is what changes

    @property
    def target_range(self):
        return (0.0, float(self.classes - 1))

    def explain_target(self, table):
        return self.original_target(table)

    def shift_target(self, y, offset):
        """Another class: (y + offset) mod K (offset in 1..K-1 never gives the row its own class)."""
        return (y.long() + offset.long()).remainder(self.classes)

    def model_spec(self, cfg: dict) -> dict:
        from stages.core.config import ParamError

        for key, want in (("loss", "cross_entropy"), ("head", "linear")):
            if cfg[key] != want:
                raise ParamError(f"train.{self.dataset}.{key} = {cfg[key]!r}: a classifier needs {want}")
        return {"arch": cfg["arch"], "stem": cfg["stem"], "width": cfg["width"], "in_channels": self.meta["channels"],
                "outputs": self.classes, "head": "linear"}

    def loss(self, out, y):
        from torch.nn import functional as F

        return F.cross_entropy(out, y)

    def per_sample_loss(self, out, y):
        from torch.nn import functional as F

        return F.cross_entropy(out, y, reduction="none")

    def val_score(self, pred, y) -> float:
        return float(np.mean(np.asarray(pred).argmax(1) != np.asarray(y)))

    def target_tensor(self, y):
        import torch

        return torch.as_tensor(np.asarray(y, np.int64))

    def select_subset(self, n, seed):
        """Test rows, the forget kind and the other rows in turn (then every class in turn within each)."""
        t = self.table("test")
        f = self.forget_rows(t)
        rng = np.random.default_rng(seed)
        label = self.original_target(t)
        kinds = [round_robin([rng.permutation(np.flatnonzero(m & (label == c))) for c in np.unique(label)], len(t))
                 for m in (f, ~f) if m.any()]
        return round_robin(kinds, n)

    def display_labels(self, table):
        names = self.class_names
        return [f"#{r.test_row} '{names[int(r.label)]}'" for r in table.itertuples()]


# ---------------------------------------------------------------------------------------------- explanation subsets
# Selection rules used by the task plugins: the subset is drawn deterministically from the global seed and interleaves
# the kinds of images the heatmaps must be compared on, so that any prefix (the first ``explain.n_figure`` images
# shown in the figures) is already mixed. select_mixed (counting): frames with both forget-class and other objects,
# with the forget class only, with other objects only, in turn; empty frames fill up. select_by_group: one image of
# every group (e.g. age group) in turn.
KINDS = ("both", "forget", "other")  # round-robin order; "empty" is the filler
BOX_COLUMNS = ("row", "cls", "x_tl", "y_tl", "x_br", "y_br")


def require(table: pd.DataFrame, columns, where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {', '.join(missing)} (has: {', '.join(table.columns)})")


def kind(table: pd.DataFrame, forget_cols, other_cols, where: str = "table") -> pd.Series:
    """Per frame: ``both``, ``forget`` (forget class only), ``other`` (other objects only) or ``empty``."""
    require(table, [*forget_cols, *other_cols], where)
    f = table[list(forget_cols)].to_numpy().sum(1) > 0
    o = table[list(other_cols)].to_numpy().sum(1) > 0
    return pd.Series(np.select([f & o, f, o], ["both", "forget", "other"], "empty"), index=table.index)


def round_robin(groups: list[np.ndarray], n: int, filler: np.ndarray | None = None) -> np.ndarray:
    """Take one item of each group in turn until ``n`` are taken; then fill up from ``filler``."""
    out, pos = [], 0
    while len(out) < n and any(pos < len(g) for g in groups):
        out += [g[pos] for g in groups if pos < len(g)]
        pos += 1
    out = out[:n]
    if filler is not None:
        out += list(filler[: n - len(out)])
    return np.asarray(out, dtype=np.int64)


def select_mixed(table: pd.DataFrame, n: int, seed: int, forget_cols, other_cols, where: str = "table") -> np.ndarray:
    """Row indices (into ``table``) of a counting subset: both / forget-only / other-only frames in turn."""
    k = kind(table, forget_cols, other_cols, where).to_numpy()
    rng = np.random.default_rng(seed)
    groups = [rng.permutation(np.flatnonzero(k == name)) for name in KINDS]
    return round_robin(groups, n, filler=rng.permutation(np.flatnonzero(k == "empty")))


def select_by_group(group: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Row indices of a subset taking every group (value of ``group``) in turn."""
    rng = np.random.default_rng(seed)
    return round_robin([rng.permutation(np.flatnonzero(group == g)) for g in np.unique(group)], n)


def subset_table(table: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The chosen rows, with their index in the test split as the first column ``test_row``."""
    out = table.iloc[rows].reset_index(drop=True)
    out.insert(0, "test_row", rows)
    return out


def subset_boxes(boxes: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Boxes of the chosen frames with ``row`` re-indexed into the subset (coordinates unchanged: the
    heatmaps have the input resolution, so the boxes stay in input pixels)."""
    new = pd.Series(np.arange(len(rows)), index=rows)
    out = boxes[boxes["row"].isin(rows)].copy()
    out["row"] = new.loc[out["row"]].to_numpy()
    return out.sort_values(["row"], kind="stable").reset_index(drop=True)
