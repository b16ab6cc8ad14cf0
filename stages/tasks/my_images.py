"""Your own images: classify a folder of class subfolders (a section ``data.<dataset>`` with ``format: image_folder``
and the folder as ``root``), then forget a class or a list of files.

Its track entry (``tracks.per_task.my_images``) names the dataset, its task entry (``tasks.my_images``) one forget
request:

- ``forget_class``: a class (its subfolder's name). Every training image of it is forgotten and Retrain never sees the
  class, as for ``digits_class``; the held-out images of the same kind (the membership attack's non-members) are the
  test images of that class.
- ``forget_list``: files, as paths under the folder (``cat/img_001.jpg``). The training images among them are
  forgotten; a listed file that the split put into val or test was never trained on, so it is counted, not forgotten.
  As for ``digits_random``, every held-out image is of the forget kind, and the probe reads the class. A listed file
  that is not among the prepared images (not in the folder, or left out as unreadable) stops the task stage naming it
  and the key; with ``data.<dataset>.on_error: skip`` it is logged and counted in the request instead.

The other key (``null``) is off; exactly one must be given. A second request on the same folder is a second task: a
module ``stages/tasks/<name>.py`` defining a subclass of its own (``from stages.tasks.my_images import MyImages`` and
``class MyCats(MyImages): pass``: the registry takes the class the module defines, not one it imports), its entry
and its per-task settings. A task's name differs from its dataset's (``models/<task>`` and ``reports/<task>`` would
hold the dataset's Original and curves too).
"""
from __future__ import annotations

import logging
from functools import cached_property


from stages.core import paths
from stages.core.config import List, ParamError, Spec, Str
from stages.data import image_folder
from stages.tasks import base

log = logging.getLogger(__name__)


class ClassName(Spec):
    """A class folder's name: a string, or an integer for a folder named by digits (YAML reads ``3`` as a number)."""

    def check(self, key, value):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
            raise ParamError(f"{key} = {value!r}: expected a class folder's name")
        return str(value)


class Files(List):
    """Paths under the folder (``cat/img_001.jpg``), at least one; ``null``: no list."""

    def __init__(self, **kw):
        super().__init__(Str(), min_len=1, **kw)

    def check(self, key, value):
        return None if value is None else super().check(key, value)


class MyImages(base.ClassificationTask):
    PARAMS = {"forget_class": ClassName(optional=True, default=None), "forget_list": Files(optional=True, default=None)}
    TRACK = "per_task"   # every model of the task made in one stage and explained in one
    # the membership attacks compare at least 10 members (forget rows; retain rows for MIA_efficacy) with 10
    # non-members (held-out rows of the forget kind; test rows): stages.metrics.membership.MIN_PER_CLASS. A smaller
    # request stops stage task naming the role instead of stage evaluate after every model is trained
    MIN_ROWS = {role: 10 for role in ("retain", "forget", "test", "heldout_like_forget")}

    def __init__(self, name, cfg, params, root="."):
        super().__init__(name, cfg, params, root)
        key = f"tasks.{name}"
        if self.dataset not in image_folder.folders(params):
            raise ParamError(f"tracks.{self.TRACK}.{name} = {self.dataset!r}: data.{self.dataset} is not an image folder "
                             f"(format: {image_folder.FORMAT}, root: the folder of class subfolders this task reads)")
        if (cfg["forget_class"] is None) == (cfg["forget_list"] is None):
            raise ParamError(f"{key}: give exactly one of forget_class (a class folder) and forget_list (files under "
                             f"the folder); the other null")
        self.on_error = image_folder.load_params(params, self.dataset)["on_error"]

    # ------------------------------------------------------------------ the request
    @property
    def by_class(self) -> bool:
        return self.cfg["forget_class"] is not None

    @property
    def forget_class(self) -> int:
        name = self.cfg["forget_class"]
        if name not in self.class_names:
            raise ParamError(f"tasks.{self.name}.forget_class = {name!r}: not a class of data.{self.dataset} "
                             f"(classes: {', '.join(self.class_names)}; a skipped folder is no class)")
        return self.class_names.index(name)

    @cached_property
    def _listed(self) -> dict:
        """The listed files by where the split put them, and those not among the prepared images."""
        key = f"tasks.{self.name}.forget_list"
        where = {f: s for s in ("train", "val", "test") for f in self.table(s)["file"]}
        out = {"train": [], "held_out": [], "missing": []}
        for f in self.cfg["forget_list"]:
            f = f.strip().strip("/")
            if f not in where:
                msg = (f"{key}: {f!r} is not among the prepared images of data.{self.dataset} (a path under the "
                       f"folder, e.g. {self.table('train')['file'].iloc[0]!r}; not in the folder, or left out as "
                       f"unreadable: {paths.prepared(self.dataset, self.root) / 'prepare_report.json'})")
                if self.on_error == "raise":
                    raise ValueError(msg + f" (data.{self.dataset}.on_error: skip leaves it out)")
                log.warning("%s; skipped", msg)
                out["missing"].append(f)
            else:
                out["train" if where[f] == "train" else "held_out"].append(f)
        for f in out["held_out"]:
            log.info("%s: %s is in split %s, never trained on: nothing to forget", key, f, where[f])
        return out

    def forget_rows(self, table):
        if self.by_class:
            return self.original_target(table) == self.forget_class
        base.require(table, ("split", "file"), "table")
        train = table["split"].to_numpy() == "train"
        return ~train | table["file"].isin(self._listed["train"]).to_numpy()

    def retain_rows(self, table):
        if self.by_class:
            return ~self.forget_rows(table)
        return ~self.forget_rows(table) | (table["split"].to_numpy() != "train")

    def request(self):
        if self.by_class:
            return {"forget_class": self.cfg["forget_class"], "class_index": self.forget_class}
        return {"forget_list": len(self.cfg["forget_list"]), "in_train": len(self._listed["train"]),
                "held_out": self._listed["held_out"], "skipped_missing": self._listed["missing"]}

    def probe_target(self, table):
        if self.by_class:
            return super().probe_target(table)
        return self.original_target(table), "balanced_accuracy"  # a list of files has no concept: the class

    def title(self):
        if self.by_class:
            return f"Your images ({self.dataset}), forget class '{self.cfg['forget_class']}'"
        return f"Your images ({self.dataset}), forget {len(self._listed['train'])} listed training images"

    def display_labels(self, table):
        return [f"#{r.test_row} {r.file if len(r.file) <= 24 else '...' + r.file[-21:]}" for r in table.itertuples()]
