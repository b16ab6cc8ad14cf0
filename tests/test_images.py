"""Your own images: a folder of class subfolders read by stage prepare@images (a section data.images with format
image_folder: stages/data/image_folder.py, stages/data/readers/image_folder.py) and the task
my_images (stages/tasks/my_images.py) with a forget request by class or by a list of files, run end to end on a tiny
generated tree (grey and colour, PNG and JPEG, different sizes); every bad input stops naming the file, folder or key,
or, under on_error: skip, is logged, counted and left out."""
from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from stages import profile, tasks
from stages.core import config
from stages.core.config import ParamError
from stages.data import image_folder
from tests import tiny
from tests.conftest import ROOT

CLASSES = ("cat", "dog", "owl")
LEVEL = {c: 40 + 80 * k for k, c in enumerate(CLASSES)}  # each class its own brightness: the tiny models learn it


def write_image(path, level: int, kind: int, rng) -> None:
    """One image of brightness ``level``: grey PNG, colour JPEG, colour PNG with transparency or grey JPEG in turn, in
    sizes from 9 x 11 to 21 x 23 (wide and tall)."""
    h, w = 9 + 3 * (kind + int(rng.integers(0, 2))), 11 + 4 * (3 - kind)
    x = np.clip(level + rng.integers(-15, 16, (h, w, 3)), 0, 255).astype(np.uint8)
    if kind == 0:
        Image.fromarray(x[..., 0], "L").save(path.with_suffix(".png"))
    elif kind == 1:
        x[..., 2] //= 2  # a colour cast
        Image.fromarray(x, "RGB").save(path.with_suffix(".jpg"), quality=95)
    elif kind == 2:
        Image.fromarray(np.dstack([x, np.full((h, w), 255, np.uint8)]), "RGBA").save(path.with_suffix(".png"))
    else:
        Image.fromarray(x[..., 0], "L").save(path.with_suffix(".jpeg"), quality=95)


def make_tree(root, n: int = 30, classes=CLASSES):
    """``root/<class>/<NNN>.<png|jpg|jpeg>``, ``n`` images per class."""
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n):
            write_image(root / c / f"{i:03d}", LEVEL.get(c, 128), i % 4, rng)
    return root


TINY = {  # the smallest recipe the stages accept, on top of profiles/images.yaml and tests/tiny.py's project
    "data.images.image_size": 8, "data.images.split.train": 0.4, "data.images.split.val": 0.2,
    "data.images.split.test": 0.4, "data.images.min_split.train": 2, "data.images.min_split.val": 1,
    "data.images.min_split.test": 1, "train.images.epochs": 2, "train.images.batch_size": 16,
    "train.images.width": 8, "train.images.amp": False, "unlearn.my_images.epochs": 1,
    "unlearn.my_images.batch_size": 16, "explain.n_images.my_images": 6, "explain.sidu.layer.my_images": "layer2",
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A tiny project (tests/tiny.py) with profiles/images.yaml applied, pointing at a generated tree; returns a
    function that rewrites params.yaml with more settings and returns the params."""
    monkeypatch.chdir(tmp_path)
    params_file = tiny.make_project(tmp_path)
    monkeypatch.setattr(config, "PARAMS_FILE", str(params_file))
    make_tree(tmp_path / "photos")
    base = profile.apply(config.read_params(str(params_file)), profile.load("images", ROOT / "profiles"))

    def setup(**over):
        p = profile.apply(base, {**TINY, "data.images.root": str(tmp_path / "photos"), **over})
        params_file.write_text(yaml.safe_dump(p, sort_keys=False))
        return config.read_params(str(params_file))
    setup()
    return setup


def _prepare(**kw):
    from stages import prepare

    prepare.main(["--dataset", "images", *[x for k, v in kw.items() for x in (f"--{k}", v)]])


# ---------------------------------------------------------------------------------------------- reading
def test_decode_makes_grey_and_colour_squares_of_any_size():
    import io

    def png(a, mode):
        buf = io.BytesIO()
        (Image.fromarray(a, mode) if mode else Image.fromarray(a)).save(buf, "PNG")
        return buf.getvalue()

    grey = np.tile(np.arange(0, 240, 10, dtype=np.uint8), (12, 1))           # 12 x 24, a horizontal ramp
    a, is_grey, why = image_folder.decode(png(grey, "L"), 8)
    assert why is None and is_grey and a.shape == (3, 8, 8) and (a[0] == a[1]).all()
    assert (np.diff(a[0].astype(int), axis=1) > 0).all()                      # centre crop keeps the ramp's direction
    rgb = np.zeros((30, 10, 3), np.uint8)
    rgb[..., 0] = 200                                                          # pure red, tall
    a, is_grey, _ = image_folder.decode(png(rgb, "RGB"), 8)
    assert not is_grey and a.shape == (3, 8, 8) and (a[0] == 200).all() and (a[1:] == 0).all()
    clear = np.zeros((8, 8, 4), np.uint8)                                      # fully transparent: white
    assert (image_folder.decode(png(clear, "RGBA"), 8)[0] == 255).all()
    sixteen = np.full((8, 8), 65535, np.uint16)
    assert Image.open(io.BytesIO(png(sixteen, None))).mode.startswith("I")
    assert (image_folder.decode(png(sixteen, None), 8)[0] == 255).all()       # 16-bit grey scaled to 0..255
    noise = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)  # incompressible: a long IDAT
    cut = png(noise, "L")[:600]                                                # the pixel data stops half-way
    for data, why in ((b"", "empty file"), (b"hello world", "not an image"), (cut, "corrupt or truncated")):
        assert image_folder.decode(data, 8)[2].startswith(why)


def test_prepare_splits_each_class_and_keeps_the_file_names(project, tmp_path):
    _prepare()
    out = tmp_path / "data" / "prepared" / "images"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["class_names"] == list(CLASSES) and meta["channels"] == 3 and meta["image_size"] == 8
    t = {s: pd.read_csv(out / f"{s}.csv") for s in ("train", "val", "test")}
    # 30 images per class, test 0.4 -> 12, val 0.2 of the whole -> 6 of the 18 left, train 12: stratified exactly
    assert {s: np.bincount(t[s]["label"]).tolist() for s in t} == {"train": [12] * 3, "val": [6] * 3, "test": [12] * 3}
    every = pd.concat(t.values())
    assert len(set(every["file"])) == 90
    assert all(f.split("/")[0] == CLASSES[k] for f, k in zip(every["file"], every["label"]))  # folder = class
    x = np.load(out / "train.npy")
    assert x.shape == (36, 3, 8, 8) and x.dtype == np.uint8
    means = [x[t["train"]["label"].to_numpy() == k].mean() for k in range(3)]
    assert means == sorted(means) and means[2] - means[0] > 100             # the classes' brightness survived
    stats = json.loads((tmp_path / "reports" / "data" / "images_stats.json").read_text())
    assert stats["splits"]["test"]["images"] == 36 and stats["skipped"] == {k: 0 for k in image_folder.Skips.KINDS}
    figures = tmp_path / "reports" / "data" / "images"                       # the figures folder of prepare@images
    assert pd.read_csv(figures / "class_hist.csv").to_dict("list") == {
        "class": [0, 1, 2], "train": [12] * 3, "val": [6] * 3, "test": [12] * 3}
    assert (figures / "class_hist.png").stat().st_size > 0
    _prepare(out=str(tmp_path / "again"))
    assert all((out / f).read_bytes() == (tmp_path / "again" / f).read_bytes() for f in ("train.npy", "test.csv"))


def test_an_all_grey_folder_gives_one_channel(tmp_path):
    rng = np.random.default_rng(1)
    for c in ("a", "b"):
        (tmp_path / "grey" / c).mkdir(parents=True)
        for i in range(6):
            write_image(tmp_path / "grey" / c / f"{i}", LEVEL["dog"], (0, 3)[i % 2], rng)
    cfg = {"root": str(tmp_path / "grey"), "image_size": 8, "channels": "auto", "seed": 0, "on_error": "raise",
           "split": {"train": 0.5, "val": 0.25, "test": 0.25}, "min_split": {"train": 1, "val": 1, "test": 1}}
    image_folder.prepare(cfg, tmp_path / "out", "grey")
    assert np.load(tmp_path / "out" / "train.npy").shape[1] == 1
    image_folder.prepare({**cfg, "channels": 3}, tmp_path / "rgb", "grey")
    x = np.load(tmp_path / "rgb" / "train.npy")
    assert x.shape[1] == 3 and (x[:, 0] == x[:, 2]).all()


# ---------------------------------------------------------------------------------------------- end to end
def test_the_image_folder_task_runs_end_to_end(project, tmp_path):
    """prepare -> Original -> the request -> Original's copy, Retrain and one method -> SIDU -> evaluation -> report."""
    from stages import evaluate, explain, explain_report, report, task, task_models, train

    project(**{"unlearn.methods": {"finetune": {}}, "tasks.my_images.forget_class": "owl"})
    _prepare()
    train.main(["--dataset", "images"])
    task.main(["--task", "my_images", "--skip-original"])
    info = json.loads((tmp_path / "data" / "tasks" / "my_images" / "task.json").read_text())
    assert info["request"] == {"forget_class": "owl", "class_index": 2} and info["roles"]["forget"] == 12
    task_models.main(["--task", "my_images"])
    explain.main(["--task", "my_images", "--model", "all", "--explainer", "sidu"])
    explain_report.main(["--task", "my_images"])
    evaluate.main(["--task", "my_images"])
    report.main(["--task", "my_images"])
    summary = json.loads((tmp_path / "reports" / "my_images" / "summary.json").read_text())
    assert list(summary) == ["original", "retrain", "finetune"]
    assert summary["retrain"]["FA"] == 0.0          # Retrain never saw an owl: it calls none of them owl
    assert summary["original"]["FA"] > 0.25         # the Original calls some training owls owl (3 classes)
    table = (tmp_path / "reports" / "my_images" / "table.md").read_text()
    assert "forget class 'owl'" in table and "| finetune |" in table


def test_a_list_request_forgets_the_listed_training_files(project, tmp_path):
    _prepare()
    train = pd.read_csv(tmp_path / "data" / "prepared" / "images" / "train.csv")
    test = pd.read_csv(tmp_path / "data" / "prepared" / "images" / "test.csv")
    listed = [*train["file"][::3], test["file"][0]]                            # 12 training files and a test file
    p = project(**{"tasks.my_images.forget_class": None,
                   "tasks.my_images.forget_list": listed})
    t = tasks.get("my_images", p)
    assert list(t.table("train")["file"][t.role("forget").rows]) == listed[:-1]
    assert sorted([*t.role("retain").rows, *t.role("forget").rows]) == list(range(len(train)))
    assert len(t.role("heldout_like_forget").rows) == len(test)                # every test image is of the kind
    assert len(t.role("val").rows) == len(t.table("val"))
    assert t.request()["in_train"] == 12 and t.request()["held_out"] == [test["file"][0]]


# ---------------------------------------------------------------------------------------------- bad input
def test_an_unreadable_image_stops_naming_it_or_is_skipped_and_counted(project, tmp_path, caplog):
    bad = tmp_path / "photos" / "dog" / "broken.jpg"
    bad.write_bytes((tmp_path / "photos" / "dog" / "001.jpg").read_bytes()[:200])   # a truncated JPEG
    with pytest.raises(image_folder.ImageFolderError, match=rf"{bad}: corrupt or truncated image .*on_error: skip"):
        _prepare()
    project(**{"data.images.on_error": "skip"})
    with caplog.at_level(logging.WARNING):
        _prepare()
    assert f"{bad}: corrupt or truncated image" in caplog.text
    report = json.loads((tmp_path / "data" / "prepared" / "images" / "prepare_report.json").read_text())
    assert report["unreadable"]["count"] == 1 and report["unreadable"]["files"][0]["path"] == "dog/broken.jpg"
    files = pd.concat(pd.read_csv(tmp_path / "data" / "prepared" / "images" / f"{s}.csv")
                      for s in ("train", "val", "test"))
    assert len(files) == 90 and "dog/broken.jpg" not in set(files["file"])


def test_an_empty_class_folder_stops_naming_it_or_is_left_out(project, tmp_path):
    (tmp_path / "photos" / "emu").mkdir()
    (tmp_path / "photos" / "emu" / "notes.txt").write_text("no image here")
    with pytest.raises(image_folder.ImageFolderError, match=rf"{tmp_path / 'photos' / 'emu'}: empty class folder"):
        _prepare()
    project(**{"data.images.on_error": "skip"})
    _prepare()
    meta = json.loads((tmp_path / "data" / "prepared" / "images" / "meta.json").read_text())
    assert meta["class_names"] == list(CLASSES)
    stats = json.loads((tmp_path / "reports" / "data" / "images_stats.json").read_text())
    assert stats["skipped"]["empty_class"] == 1 and stats["ignored_files"] == 1


def test_a_class_too_small_to_split_stops_naming_it_or_is_left_out(project, tmp_path):
    rng = np.random.default_rng(2)
    (tmp_path / "photos" / "emu").mkdir()
    for i in range(2):
        write_image(tmp_path / "photos" / "emu" / f"{i}", 200, i, rng)
    with pytest.raises(image_folder.ImageFolderError, match=rf"{tmp_path / 'photos' / 'emu'}: 2 image\(s\), fewer "
                                                             r"than the 3 a stratified train / val / test split needs"):
        _prepare()
    project(**{"data.images.on_error": "skip"})
    _prepare()
    stats = json.loads((tmp_path / "reports" / "data" / "images_stats.json").read_text())
    assert stats["class_names"] == list(CLASSES) and stats["skipped"]["small_class"] == 1


def test_a_split_below_its_minimum_or_the_class_count_stops_naming_the_key(project, tmp_path):
    project(**{"data.images.min_split.test": 40})
    with pytest.raises(ValueError, match=r"split test has 36 images, fewer than the minimum 40 "
                                         r"\(data\.images\.min_split\.test\)"):
        _prepare()
    project(**{"data.images.split.train": 0.96, "data.images.split.val": 0.02, "data.images.split.test": 0.02})
    with pytest.raises(ValueError, match=r"would hold 2 image\(s\), fewer than the 3 classes.*data\.images\.split"):
        _prepare()


def test_a_forget_list_name_not_in_the_tree_stops_naming_it_or_is_skipped(project, tmp_path, caplog):
    from stages import task

    _prepare()
    train = pd.read_csv(tmp_path / "data" / "prepared" / "images" / "train.csv")
    listed = [*train["file"][:12], "cat/no_such.png"]
    project(**{"tasks.my_images.forget_class": None,
               "tasks.my_images.forget_list": listed})
    with pytest.raises(ValueError, match=r"tasks\.my_images\.forget_list: 'cat/no_such\.png' is not "
                                         r"among the prepared images of data\.images"):
        task.main(["--task", "my_images", "--skip-original"])
    p = project(**{"tasks.my_images.forget_class": None, "data.images.on_error": "skip",
                   "tasks.my_images.forget_list": listed})
    with caplog.at_level(logging.WARNING):
        request = tasks.get("my_images", p).request()
    assert request["skipped_missing"] == ["cat/no_such.png"] and request["in_train"] == 12
    assert "'cat/no_such.png' is not among the prepared images" in caplog.text


def test_the_request_and_the_folder_are_checked_before_any_data(project, tmp_path):
    with pytest.raises(ParamError, match=r"my_images: give exactly one of forget_class .* and forget_list"):
        tasks.get("my_images", project(**{"tasks.my_images.forget_list": ["cat/000.png"]}))
    with pytest.raises(ParamError, match=r"my_images: give exactly one"):
        tasks.get("my_images", project(**{"tasks.my_images.forget_class": None}))
    with pytest.raises(ParamError, match=r"forget_list: expected at least 1 items"):
        tasks.get("my_images", project(**{"tasks.my_images.forget_class": None,
                                          "tasks.my_images.forget_list": []}))
    p = project()
    p["data"]["images"]["format"] = "mnist"                   # a dataset, but not an image folder
    with pytest.raises(ParamError, match=r"tracks\.per_task\.my_images = 'images': data\.images is not an image "
                                         r"folder \(format: image_folder, root: "):
        tasks.get("my_images", p)
    del p["data"]["images"]
    with pytest.raises(ParamError, match=r"data\.images: missing \(the section of an image folder"):
        image_folder.load_params(p, "images")
    with pytest.raises(ParamError, match=r"data\.images\.on_error = 'ignore'"):
        image_folder.load_params(project(**{"data.images.on_error": "ignore"}), "images")
    with pytest.raises(ParamError, match=r"data\.images\.split: ratios must sum to 1"):
        image_folder.load_params(project(**{"data.images.split.test": 0.5}), "images")
    with pytest.raises(FileNotFoundError, match=r"no_such: no such folder"):
        image_folder.find(tmp_path / "no_such")
    project()
    _prepare()
    with pytest.raises(ParamError, match=r"forget_class = 'emu': not a class of data\.images \(classes: cat, dog, owl"):
        t = tasks.get("my_images", project(**{"tasks.my_images.forget_class": "emu"}))
        t.forget_rows(t.table("train"))
