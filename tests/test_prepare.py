"""Stage prepare@<dataset>: one stage per section of data: (from the root, `dvc repro prepare@digits`), its reader
picked by the section's format (stages/data/readers), an unknown format stopping check_params naming the key, and the
per-class image counts written for a classification dataset (reports/data/<dataset>/class_hist.csv)."""
from __future__ import annotations

import copy
import json
import subprocess

import pandas as pd
import pytest

from stages import check_params
from stages.core import config
from stages.core.config import ParamError
from stages.data import class_stats, readers
from tests.conftest import ROOT

PARAMS = config.read_params(str(ROOT / "params.yaml"))
FORMATS = ["cifar10", "image_folder", "ltd", "mnist", "utkface"]


def test_every_dataset_has_its_prepare_stage_in_the_root():
    out = subprocess.run(["dvc", "stage", "list", "--all"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert {f"prepare@{d}" for d in PARAMS["data"]} <= set(names)   # no path: the stage is in the root dvc.yaml
    assert not [n for n in names if "prepare_" in n]                 # no stage per dataset any more


def test_the_formats_are_the_reader_modules():
    assert readers.formats() == FORMATS
    assert {d: type(readers.get(PARAMS, d)).__name__ for d in PARAMS["data"]} == {
        "ltd": "LTD", "utk": "UTKFace", "digits": "MNIST"}


@pytest.mark.parametrize("value,message", [
    ("idx", r"data\.digits\.format = 'idx': unknown format \(known: cifar10, image_folder, ltd, mnist, utkface\)"),
    (None, r"data\.digits\.format = None: unknown format"),
    ("__delete__", r"data\.digits\.format: missing \(the on-disk format .*known: cifar10, image_folder"),
])
def test_an_unknown_format_stops_check_params_naming_the_key(value, message):
    params = copy.deepcopy(PARAMS)
    if value == "__delete__":
        del params["data"]["digits"]["format"]
    else:
        params["data"]["digits"]["format"] = value
    with pytest.raises(ParamError, match=message):
        check_params.check(params)


def test_a_dataset_of_another_format_is_checked_by_its_reader():
    params = copy.deepcopy(PARAMS)
    params["data"]["photos"] = {"format": "image_folder", "root": "photos", "image_size": 16, "channels": "auto",
                                "seed": 0, "split": {"train": 0.6, "val": 0.2, "test": 0.2}, "on_error": "raise",
                                "min_split": {"train": 1, "val": 1, "test": 1}}
    check_params.check(params)
    params["data"]["photos"]["channels"] = 2
    with pytest.raises(ParamError, match=r"data\.photos\.channels = 2"):
        check_params.check(params)


def test_the_class_histogram_counts_each_class_per_split(tmp_path):
    """Hand-counted: train 0,0,1,2,2,2; val 0,1; test 1,1,2; class 3 has no image (a row of zeros)."""
    d = tmp_path / "prepared"
    d.mkdir()
    for split, labels in {"train": [0, 0, 1, 2, 2, 2], "val": [0, 1], "test": [1, 1, 2]}.items():
        pd.DataFrame({"label": labels, "split": split}).to_csv(d / f"{split}.csv", index=False)
    (d / "meta.json").write_text(json.dumps({"classes": 4, "class_names": ["cat", "dog", "owl", "emu"]}))
    hist = class_stats.write(d, tmp_path / "figures", "pets")
    expected = {"class": [0, 1, 2, 3], "train": [2, 1, 3, 0], "val": [1, 1, 0, 0], "test": [0, 2, 1, 0]}
    assert hist.to_dict("list") == expected
    assert pd.read_csv(tmp_path / "figures" / "class_hist.csv").to_dict("list") == expected
    assert (tmp_path / "figures" / "class_hist.png").stat().st_size > 0
