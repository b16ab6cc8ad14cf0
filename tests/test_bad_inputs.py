"""Nothing lost, nothing corrupted: the bad inputs a user's real copy holds, in both on_error modes.

One test (or parametrised family) per case: bad lines exclude the whole frame, BOM / non-UTF-8 annotation files,
badly named folders and files, frame size, excluded images with their reason, UTKFace duplicates, too little data,
output permissions, and byte-identical outputs of the prepare stages on identical inputs.
"""
import copy
import json
import logging
import os
import pickle
import shutil
import stat

import cv2
import numpy as np
import pandas as pd
import pytest

from stages.data import ltd_prepare
from stages.data import cifar10, digits, ltd, mnist, splits, synth_utk, utkface
from stages.data.arrays import SPLITS
from stages.core.io import atomic_dir
from tests.conftest import LTD_EXAMPLE
from tests.test_ltd import GOOD, write_tree
from tests.test_readers import idx_bytes, write_cifar
from tests.test_utkface import CFG as UTK_BASE
from tests.test_utkface import make_cfg

ROUNDED_4 = 5e-5  # half a unit in the 4th decimal: the boxes CSV is written with float_format "%.4f"

CLIP = ("20200601", "clip_1_1200")
REBALANCE = {"high_percentile": 70, "high_keep": 0.5, "low_percentile": 10, "low_factor": 2, "seed": 0}


def ltd_cfg(root, **over):
    cfg = {"root": str(root), "forget_class": "human", "frame_stride": 1, "frame_size": [288, 384],
           "image_size": [36, 48], "on_error": "raise", "split": {"train": 0.6, "val": 0.2, "test": 0.2},
           "min_split": {"train": 2, "val": 1, "test": 1}, "rebalance": dict(REBALANCE)}
    cfg.update(over)
    return cfg


def annot_path(root, n, date=CLIP[0], clip=CLIP[1]):
    return root / "annotations" / date / clip / f"annotations_{n:04d}.txt"


def frame_path(root, n, date=CLIP[0], clip=CLIP[1]):
    return root / "frames" / date / clip / f"image_{n:04d}.jpg"


def lines(k, start=0):
    """k well-formed lines, humans and vehicles alternating."""
    return [f"{start + i:08d} {'human' if i % 2 else 'vehicle'} {10 + 30 * i} 20 {30 + 30 * i} 60 1" for i in range(k)]


def five_clips(root):
    """10 clips x 3 frames over 5 dates: enough for a 60/20/20 clip split (6/2/2 clips)."""
    tree = {}
    for d in range(5):
        for c in range(2):
            for n in range(3):
                tree[(f"2020060{d + 1}", f"clip_{d * 2 + c}_1{c}00", n)] = lines((d + c + n) % 4, 100 * d + 10 * c)
    write_tree(root, tree)
    return tree


# ------------------------------------------------------------------------- 1. bad lines exclude the frame
@pytest.mark.parametrize("bad", ["00000009 dog 10 20 20 60 1", "00000009 human 10 20 20 300 1", "00000009 human"])
def test_skip_excludes_the_whole_frame_of_a_bad_line_and_counts_it(tmp_path, caplog, bad):
    write_tree(tmp_path, {(*CLIP, 0): [GOOD[0], bad, GOOD[1]], (*CLIP, 1): GOOD})
    report = ltd.Report()
    with caplog.at_level(logging.WARNING, logger="stages.data.ltd"):
        df = ltd.read_annotations(tmp_path, on_error="skip", report=report)
    assert df["frame"].tolist() == [1]                       # never frame 0 with one object fewer
    assert df[list(ltd.CLASSES)].values.tolist() == [[1, 1, 0, 1]]
    s = report.summary()
    assert s["frames_with_bad_lines"] == 1 and s["skipped_lines"] == 1 and report.frames_examined == 2
    assert "annotations_0000.txt:2" in report.bad_line_frames[0]
    assert "annotations_0000.txt:2" in caplog.text and "excluded frame" in caplog.text


def test_prepare_report_counts_frames_with_bad_lines(tmp_path):
    five_clips(tmp_path / "ltd")
    annot_path(tmp_path / "ltd", 1, "20200601", "clip_0_1000").write_text(GOOD[0] + "\n00000009 dog 1 2 3 4 1\n")
    with pytest.raises(ltd.AnnotationError, match=r"clip_0_1000/annotations_0001\.txt:2: unknown class 'dog'"):
        ltd_prepare.prepare(ltd_cfg(tmp_path / "ltd"), tmp_path / "out")
    stats = ltd_prepare.prepare(ltd_cfg(tmp_path / "ltd", on_error="skip"), tmp_path / "out")
    assert stats["frames_read"] == 30 and stats["frames_kept"] == 29 and stats["frames_with_bad_lines"] == 1
    written = json.loads((tmp_path / "out" / "prepare_report.json").read_text())
    assert written["frames_with_bad_lines"] == 1
    names = pd.concat([pd.read_csv(tmp_path / "out" / f"{s}.csv") for s in SPLITS])["file_name"]
    assert "frames/20200601/clip_0_1000/image_0001.jpg" not in set(names)


# ----------------------------------------------------------------------------------- 2. BOM and non-UTF-8
@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_utf8_bom_is_tolerated_and_counts_are_exact(tmp_path, on_error):
    write_tree(tmp_path, {(*CLIP, 0): None, (*CLIP, 1): GOOD})
    annot_path(tmp_path, 0).write_bytes(b"\xef\xbb\xbf" + "".join(l + "\n" for l in GOOD[:2]).encode())
    report = ltd.Report()
    df = ltd.read_annotations(tmp_path, on_error=on_error, report=report)
    assert df["frame"].tolist() == [0, 1]
    assert df["human"].tolist() == [1, 1] and (df[list(ltd.CLASSES)].sum(axis=1)).tolist() == [2, 3]
    assert report.utf8_bom == 1 and report.summary()["frames_with_bad_lines"] == 0


def test_non_utf8_bytes_name_the_file_or_exclude_the_frame(tmp_path, caplog):
    write_tree(tmp_path, {(*CLIP, 0): None, (*CLIP, 1): GOOD})
    annot_path(tmp_path, 0).write_bytes(GOOD[0].encode() + b"\n00000002 v\xe9hicule 1 2 3 4 1\n")
    with pytest.raises(ltd.AnnotationError, match=r"annotations_0000\.txt:2: not UTF-8 text \(byte 0xe9"):
        ltd.read_annotations(tmp_path)
    report = ltd.Report()
    with caplog.at_level(logging.WARNING, logger="stages.data.ltd"):
        df = ltd.read_annotations(tmp_path, on_error="skip", report=report)
    assert df["frame"].tolist() == [1]
    s = report.summary()
    assert s["non_utf8_annotations"] == 1 and s["frames_with_bad_lines"] == 1
    assert "annotations_0000.txt:2" in caplog.text


# --------------------------------------------------------------------------------- 3. badly named paths
BAD_PATHS = [
    # (what to create under frames/ (and annotations/), frames it holds, expected words)
    ("date", "2020-06-02/clip_2_1200", 3, "not a date folder"),
    ("date", "20201345/clip_2_1200", 3, "not a valid calendar date"),
    ("clip", "20200601/clip2_1300", 2, "not a clip folder"),
    ("clip", "20200601/clip_2_2575", 2, "clip start time is not a valid HHMM"),
    ("frame", "20200601/clip_1_1200/image_7.jpg", 1, "not named image_<NNNN>.jpg"),
    ("frame", "20200601/clip_1_1200/image_00000.jpg", 1, "same frame number as image_0000.jpg"),
]


def _make_bad(root, rel, n):
    if rel.endswith(".jpg"):
        cv2.imwrite(str(root / "frames" / rel), np.full((288, 384), 90, np.uint8))
        return root / "frames" / rel
    folder = root / "frames" / rel
    folder.mkdir(parents=True)
    (root / "annotations" / rel).mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"image_{i:04d}.jpg"), np.full((288, 384), 90, np.uint8))
        (root / "annotations" / rel / f"annotations_{i:04d}.txt").write_text(GOOD[0] + "\n")
    return folder.parent if rel.split("/")[0] in ("2020-06-02", "20201345") else folder


@pytest.mark.parametrize("kind,rel,n,words", BAD_PATHS)
def test_badly_named_paths_raise_or_warn_with_the_frames_they_held(tmp_path, caplog, kind, rel, n, words):
    write_tree(tmp_path, {(*CLIP, 0): GOOD, (*CLIP, 1): GOOD})
    bad = _make_bad(tmp_path, rel, n)
    with pytest.raises(ltd.LayoutError, match=rf"{bad.name}: {words}.*holds {n} frame"):
        ltd.read_annotations(tmp_path)
    report = ltd.Report()
    with caplog.at_level(logging.WARNING, logger="stages.data.ltd"):
        df = ltd.read_annotations(tmp_path, on_error="skip", report=report)
    assert df["frame"].tolist() == [0, 1]
    assert f"{bad}: {words}" in caplog.text and f"holds {n} frame(s)" in caplog.text
    s = report.summary()
    assert s["bad_names"] >= 1 and s["frames_in_bad_names"] == n
    assert str(bad) in " ".join(report.bad_names)


def test_hidden_files_are_ignored_and_counted(tmp_path):
    write_tree(tmp_path, {(*CLIP, 0): GOOD})
    (tmp_path / "frames" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (tmp_path / "frames" / CLIP[0] / CLIP[1] / "._image_0000.jpg").write_bytes(b"\0\5\26\7")  # macOS metadata
    report = ltd.Report()
    df = ltd.read_annotations(tmp_path, report=report)          # no error under raise
    assert len(df) == 1 and report.summary()["ignored_hidden"] == 2 and not report.bad_names


# ----------------------------------------------------------------------------------------- 4. frame size
def test_frame_of_another_size_is_an_error_naming_the_file(tmp_path):
    five_clips(tmp_path / "ltd")
    small = frame_path(tmp_path / "ltd", 2, "20200603", "clip_4_1000")
    cv2.imwrite(str(small), np.full((240, 320), 90, np.uint8))
    with pytest.raises(ltd.FrameSizeError, match=r"clip_4_1000/image_0002\.jpg: frame is 320x240, expected 384x288"):
        ltd_prepare.prepare(ltd_cfg(tmp_path / "ltd"), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    stats = ltd_prepare.prepare(ltd_cfg(tmp_path / "ltd", on_error="skip"), tmp_path / "out")
    assert stats["wrong_size_images"] == 1 and stats["frames_kept"] == 29


def test_declared_frame_size_validates_boxes_and_frames(tmp_path):
    root = tmp_path / "ltd"
    tree = {(f"2020060{d + 1}", f"clip_{d}_1200", n): ["00000001 human 300 200 320 240 1"] for d in range(5)
            for n in range(2)}
    write_tree(root, tree, images=False)
    for date, clip, n in tree:
        frame_path(root, n, date, clip).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(frame_path(root, n, date, clip)), np.full((240, 320), 90, np.uint8))
    with pytest.raises(ltd.FrameSizeError, match="frame is 320x240, expected 384x288"):
        ltd_prepare.prepare(ltd_cfg(root), tmp_path / "out")
    stats = ltd_prepare.prepare(ltd_cfg(root, frame_size=[240, 320]), tmp_path / "out")
    assert stats["frames_kept"] == 10 and stats["wrong_size_images"] == 0
    boxes = pd.read_csv(tmp_path / "out" / "train_boxes.csv")
    assert boxes["x_br"].max() == pytest.approx(48, abs=ROUNDED_4)  # 320x240 -> 48x36
    assert boxes["y_br"].max() == pytest.approx(36, abs=ROUNDED_4)
    annot_path(root, 0, "20200601", "clip_0_1200").write_text("00000001 human 300 200 321 240 1\n")
    with pytest.raises(ltd.AnnotationError, match=r"annotations_0000\.txt:1: box .* outside the 320x240 frame"):
        ltd_prepare.prepare(ltd_cfg(root, frame_size=[240, 320]), tmp_path / "out")


# ----------------------------------------------------------------------------- 5. excluded images say why
def test_excluded_images_say_why(tmp_path):
    five_clips(tmp_path / "ltd")
    root = tmp_path / "ltd"
    good = frame_path(root, 0, "20200601", "clip_0_1000").read_bytes()
    cases = {("20200602", "clip_2_1000", 0): (b"", "empty file (0 bytes)"),
             ("20200602", "clip_2_1000", 1): (good[:300], "truncated JPEG"),
             ("20200602", "clip_2_1000", 2): (cv2.imencode(".png", np.zeros((288, 384), np.uint8))[1].tobytes(),
                                              "not a JPEG (starts with 89 50 4e 47)"),
             ("20200603", "clip_4_1000", 0): (good[:2] + b"\xff\xd9" + bytes(100) + b"\xff\xd9", "corrupt JPEG")}
    for (date, clip, n), (data, _) in cases.items():
        frame_path(root, n, date, clip).write_bytes(data)
    names = [frame_path(root, n, d, c).relative_to(root).as_posix() for d, c, n in cases]
    _, problems = ltd.read_frames(root, names, (36, 48), progress=False)
    for (kind, why), (_, expect) in zip(problems, cases.values()):
        assert kind == "unreadable" and why.startswith(expect), (why, expect)
    stats = ltd_prepare.prepare(ltd_cfg(root), tmp_path / "out")  # excluded in both modes, never an empty frame
    assert stats["unreadable_images"] == 4 and stats["frames_kept"] == 26
    assert stats["unreadable_reasons"] == {"corrupt JPEG": 1, "empty file": 1, "not a JPEG": 1, "truncated JPEG": 1}
    report = json.loads((tmp_path / "out" / "prepare_report.json").read_text())
    assert any("image_0001.jpg: truncated JPEG" in e for e in report["examples"])


# ----------------------------------------------------------------------------------- 6. UTKFace duplicates
# the UTKFace preparation settings of tests/test_utkface.py, with no augmentation and the smallest minimums
UTK_CFG = {**UTK_BASE, "augment": {**UTK_BASE["augment"], "min_per_age": 0},
           "min_split": {"train": 2, "val": 1, "test": 1, "forget": 1}}


def utk_cfg(root, **over):
    settings = copy.deepcopy({**UTK_CFG, **over})
    settings.pop("root")
    return make_cfg(root, **settings)


@pytest.fixture(scope="module")
def utk_faces(tmp_path_factory):
    out = tmp_path_factory.mktemp("utk") / "faces"
    synth_utk.synthesize(out, n_faces=120, seed=4, progress=False)
    return out


def test_grouped_parts_keeps_equal_keys_together_and_is_plain_stratification_without_them():
    rng = np.random.default_rng(0)
    ages = rng.integers(20, 30, 60)
    plain = utkface.stratified_parts(ages, [0.6, 0.2, 0.2], np.random.default_rng(1))
    same = utkface.grouped_parts(ages, [f"h{i}" for i in range(60)], [0.6, 0.2, 0.2], np.random.default_rng(1))
    assert (plain == same).all()
    keys = np.array([f"h{i}" for i in range(60)], object)
    for g in range(10):                        # 10 groups of 3 identical images, same age
        keys[[3 * g, 3 * g + 1, 3 * g + 2]] = f"dup{g}"
        ages[[3 * g + 1, 3 * g + 2]] = ages[3 * g]
    parts = utkface.grouped_parts(ages, keys, [0.6, 0.2, 0.2], np.random.default_rng(1))
    for g in range(10):
        assert len(set(parts[keys == f"dup{g}"])) == 1
    # without grouping, the copies (equal ages, consecutive when dealt) do land in different splits
    loose = utkface.stratified_parts(ages, [0.6, 0.2, 0.2], np.random.default_rng(1))
    assert any(len(set(loose[keys == f"dup{g}"])) > 1 for g in range(10))


def test_utk_byte_identical_images_never_in_two_splits(utk_faces, tmp_path):
    folder = tmp_path / "faces"
    shutil.copytree(utk_faces, folder)
    usable = []
    for p in sorted(folder.iterdir()):
        try:
            fields, _ = utkface.check_name(p.name)
        except utkface.BadName:
            continue
        img, _ = utkface.read_image(p)
        if utkface.is_image_name(p.name) and img is not None and min(img.shape[:2]) >= 64 \
                and 20 <= fields.age <= 60 and fields.race is not None:
            usable.append((p.name, fields))
    groups = []
    for k, (name, f) in enumerate(usable[:24:2]):      # 12 faces, each copied twice under other time stamps
        copies = [f"{f.age}_{f.gender}_{f.race}_2099010100000{k:02d}{j}.jpg.chip.jpg" for j in range(2)]
        for c in copies:
            shutil.copyfile(folder / name, folder / c)
        groups.append(sorted([name, *copies]))
    report = utkface.prepare(utk_cfg(folder), tmp_path / "out", progress=False)
    where = {}
    for s in SPLITS:
        for f in pd.read_csv(tmp_path / "out" / f"{s}.csv")["source"]:
            where.setdefault(f, set()).add(s)
    for members in groups:
        assert all(m in where for m in members)              # subsample 1.0: every copy is used ...
        assert len(set().union(*(where[m] for m in members))) == 1, members   # ... all in one split
    dup = report["duplicates"]
    assert dup["groups"] == 12 and dup["files"] == 36 and dup["extra_copies"] == 24
    assert sorted(g["files"] for g in dup["list"]) == sorted(groups)
    assert report["duplicates_split_together"] == {"groups": 12, "images": 36}


# --------------------------------------------------------------------------------------- 7. too little data
def test_real_ltd_sample_stops_naming_the_empty_test_split(tmp_path):
    cfg = ltd_cfg(LTD_EXAMPLE, image_size=[72, 96], min_split={"train": 2, "val": 1, "test": 20})
    with pytest.raises(splits.TooSmall, match=r"split 'test' \(0 of 2 clips\) has 0 frames, fewer than the minimum "
                                              r"20 \(data\.ltd\.min_split\.test\)"):
        ltd_prepare.prepare(cfg, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_small_ltd_split_stops_with_its_size_and_minimum(tmp_path):
    five_clips(tmp_path / "ltd")                 # test split: 2 clips, 6 frames
    with pytest.raises(splits.TooSmall, match=r"split 'test' \(2 of 10 clips\) has 6 frames, fewer than the minimum 7"):
        ltd_prepare.prepare(ltd_cfg(tmp_path / "ltd", min_split={"train": 2, "val": 1, "test": 7}), tmp_path / "o")
    # a cfg without min_split still refuses an empty split: one clip cannot fill three splits
    write_tree(tmp_path / "one", {(*CLIP, n): GOOD for n in range(4)})
    cfg = ltd_cfg(tmp_path / "one")
    del cfg["min_split"]
    with pytest.raises(splits.TooSmall, match=r"split 'val' \(0 of 1 clips\) has 0 frames, fewer than the minimum 1"):
        ltd_prepare.prepare(cfg, tmp_path / "o")


def test_rebalanced_training_split_below_the_minimum_stops(tmp_path):
    root = tmp_path / "ltd"
    counts = [1, 1, 1, 1, 1, 1, 1, 5, 5, 5]      # P70 = 1: the three 5s are sub-sampled to 2 -> 9 frames
    tree = {("20200601", "clip_0_1000", n): lines(k) for n, k in enumerate(counts)}
    tree.update({("20200602", "clip_1_1000", 0): lines(1), ("20200603", "clip_2_1000", 0): lines(2)})
    write_tree(root, tree)
    cfg = ltd_cfg(root, split={"train": 0.4, "val": 0.3, "test": 0.3}, min_split={"train": 10, "val": 1, "test": 1})
    with pytest.raises(splits.TooSmall, match=r"rebalanced training split \(from 9 distinct frames\) has 9 frames, "
                                              r"fewer than the minimum 10 \(data\.ltd\.min_split\.train\)"):
        ltd_prepare.prepare(cfg, tmp_path / "out")


def test_rebalance_on_a_two_frame_split_keeps_both_once(tmp_path):
    assert splits.rebalance(np.array([1, 3]), **REBALANCE).tolist() == [0, 1]
    root = tmp_path / "ltd"
    write_tree(root, {("20200601", "clip_0_1000", 0): lines(1), ("20200601", "clip_0_1000", 1): lines(3),
                      ("20200602", "clip_1_1000", 0): lines(2), ("20200603", "clip_2_1000", 0): lines(2)})
    ltd_prepare.prepare(ltd_cfg(root, split={"train": 0.4, "val": 0.3, "test": 0.3}), tmp_path / "out")
    train = pd.read_csv(tmp_path / "out" / "train.csv")
    assert train["frame"].tolist() == [0, 1] and train["y"].tolist() == [1, 3]


@pytest.mark.parametrize("n", range(1, 13))
def test_rebalance_shares_hold_at_every_size(n):
    rng = np.random.default_rng(n)
    for _ in range(30):
        y = rng.integers(0, 6, n)
        idx = splits.rebalance(y, **REBALANCE)
        reps = np.bincount(idx, minlength=n)
        assert (reps <= REBALANCE["low_factor"]).all()
        assert (reps == 0).sum() <= 0.3 * n              # at most the top 30 % are sub-sampled
        assert (reps == REBALANCE["low_factor"]).sum() < max(0.1 * n, 1)  # fewer than 10 % up-sampled
        assert (reps > 0).any() and len(idx) >= 1
        high = y > np.percentile(y, 70, method="inverted_cdf")
        if high.any():
            assert reps[high].sum() >= 1                  # a sub-sampled group never vanishes


def test_small_utk_split_or_forget_set_stops(utk_faces, tmp_path):
    with pytest.raises(utkface.TooSmall, match=r"split 'test' has \d+ images, fewer than the minimum 1000 "
                                               r"\(data\.utk\.min_split\.test\)"):
        utkface.prepare(utk_cfg(utk_faces, min_split={"train": 2, "val": 1, "test": 1000, "forget": 1}),
                        tmp_path / "out", progress=False)
    with pytest.raises(utkface.TooSmall, match=r"split 'val' has 0 images, fewer than the minimum 1"):
        utkface.prepare(utk_cfg(utk_faces, split={"train": 0.8, "val": 0.0, "test": 0.2}), tmp_path / "out",
                        progress=False)
    with pytest.raises(utkface.TooSmall, match=r"forget set \(training images aged \[28,36\)\) has \d+ images, "
                                               r"fewer than the minimum 500 \(data\.utk\.min_split\.forget\)"):
        utkface.prepare(utk_cfg(utk_faces, min_split={"train": 2, "val": 1, "test": 1, "forget": 500}),
                        tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ 7b. classes too small for the digits splits
def digits_cfg(root, fmt="mnist", **over):
    cfg = {"root": str(root), "format": fmt, "seed": 0, "image_size": 8, "val_share": 0.25,
           "limit": {"train": 0, "test": 0}, "min_split": {"train": 1, "val": 1, "test": 1}}
    cfg.update(over)
    return cfg


def mnist_files(root, y_train, y_test):
    """Tiny MNIST IDX files (4x4 images) with the given labels; returns the label files (train, test)."""
    root.mkdir(parents=True, exist_ok=True)
    for split, y in (("train", y_train), ("test", y_test)):
        img, lab = mnist.FILES[split]
        (root / img).write_bytes(idx_bytes(np.full((len(y), 4, 4), 7, np.uint8)))
        (root / lab).write_bytes(idx_bytes(np.asarray(y, np.uint8)))
    return [root / mnist.FILES[s][1] for s in ("train", "test")]


FOUR_EACH = [c for c in range(3) for _ in range(4)]   # classes 0, 1, 2 with 4 images each


def test_digits_class_with_one_training_image_stops_naming_file_class_and_count(tmp_path):
    train, _ = mnist_files(tmp_path / "raw", FOUR_EACH + [3], [0, 1, 2, 3])
    with pytest.raises(splits.TooSmall) as info:
        digits.prepare(digits_cfg(tmp_path / "raw"), tmp_path / "out")
    msg = str(info.value)
    assert msg.startswith(f"{train}: class 3 has 1 image(s), fewer than the 2 that a stratified split "
                          f"(train / val) needs"), msg
    assert not (tmp_path / "out").exists()


def test_digits_class_left_with_one_image_by_the_limit_says_so(tmp_path):
    train, _ = mnist_files(tmp_path / "raw", [0] * 20 + [1] * 20 + [2] * 2, [0, 1, 2])
    with pytest.raises(splits.TooSmall) as info:
        digits.prepare(digits_cfg(tmp_path / "raw", limit={"train": 25, "test": 0}), tmp_path / "out")
    assert str(info.value).startswith(f"{train} (after data.digits.limit.train = 25): class 2 has 1 image(s)")


def test_digits_val_share_too_small_for_one_image_per_class_names_the_setting(tmp_path):
    train, _ = mnist_files(tmp_path / "raw", FOUR_EACH, [0, 1, 2])
    with pytest.raises(splits.TooSmall) as info:
        digits.prepare(digits_cfg(tmp_path / "raw", val_share=0.1), tmp_path / "out")
    assert str(info.value) == (f"{train}: the val part of a stratified split would hold 2 image(s), fewer than "
                               f"the 3 classes (one of each); change data.digits.val_share = 0.1")


def test_digits_test_class_absent_from_training_names_both_files(tmp_path):
    train, test = mnist_files(tmp_path / "raw", FOUR_EACH, [0, 1, 2, 5, 1, 5])
    with pytest.raises(splits.LabelError) as info:
        digits.prepare(digits_cfg(tmp_path / "raw"), tmp_path / "out")
    msg = str(info.value)
    assert msg.startswith(f"{test}: class 5 (2 rows, first row 3) is absent from the training data {train}"), msg


def test_digits_cifar_class_too_small_names_the_training_batches(tmp_path):
    write_cifar(tmp_path / "raw", n=4)
    y = {name: [0, 1, 0, 1] for name in cifar10.TRAIN + (cifar10.TEST,)}
    y["data_batch_4"] = [0, 1, 7, 1]
    for name, labels in y.items():
        batch = pickle.loads((tmp_path / "raw" / name).read_bytes())
        (tmp_path / "raw" / name).write_bytes(pickle.dumps({**batch, b"labels": labels}))
    with pytest.raises(splits.TooSmall) as info:
        digits.prepare(digits_cfg(tmp_path / "raw", "cifar10"), tmp_path / "out")
    assert str(info.value).startswith(f"{tmp_path / 'raw' / 'data_batch_1'}..5: class 7 has 1 image(s)")


def test_digits_label_outside_the_classes_stops_prepare(tmp_path):
    _, test = mnist_files(tmp_path / "raw", FOUR_EACH, [0, 1, 2] * 10 + [200] * 30)
    with pytest.raises(splits.LabelError) as info:
        digits.prepare(digits_cfg(tmp_path / "raw"), tmp_path / "out")
    assert str(info.value) == (f"{test}: row 30 has label 200, outside 0..9, the 10 MNIST classes "
                               f"(30 of 60 rows out of range)")
    assert not (tmp_path / "out").exists()


def test_digits_valid_tiny_files_still_prepare(tmp_path):
    mnist_files(tmp_path / "raw", FOUR_EACH, [0, 1, 2, 2])
    stats = digits.prepare(digits_cfg(tmp_path / "raw"), tmp_path / "out")
    assert stats["classes"] == 3 and {s: v["images"] for s, v in stats["splits"].items()} == \
        {"train": 9, "val": 3, "test": 4}


# ------------------------------------------------------------------------------------------ 10. permissions
def test_outputs_have_normal_permissions(tmp_path):
    five_clips(tmp_path / "ltd")
    old = os.umask(0o022)
    try:
        ltd_prepare.prepare(ltd_cfg(tmp_path / "ltd"), tmp_path / "out")
        with atomic_dir(tmp_path / "plain") as d:
            (d / "x.txt").write_text("x")
    finally:
        os.umask(old)
    for folder in (tmp_path / "out", tmp_path / "plain"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder
    for f in (tmp_path / "out").iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f


# ----------------------------------------------------------------------- 9. identical input -> identical output
def _same_files(a, b):
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and names
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n


def test_prepare_ltd_twice_gives_byte_identical_outputs(tmp_path):
    five_clips(tmp_path / "ltd")
    annot_path(tmp_path / "ltd", 1, "20200601", "clip_0_1000").write_text("00000009 dog 1 2 3 4 1\n")
    frame_path(tmp_path / "ltd", 2, "20200602", "clip_2_1000").write_bytes(b"")
    cfg = ltd_cfg(tmp_path / "ltd", on_error="skip")
    ltd_prepare.prepare(cfg, tmp_path / "a")
    ltd_prepare.prepare(cfg, tmp_path / "b")
    _same_files(tmp_path / "a", tmp_path / "b")
    report = json.loads((tmp_path / "a" / "prepare_report.json").read_text())
    assert not [k for k in report if "second" in k or "per_s" in k or "time" in k]


def test_prepare_utk_twice_gives_byte_identical_outputs(utk_faces, tmp_path):
    cfg = utk_cfg(utk_faces, augment={**UTK_CFG["augment"], "min_per_age": 3})
    utkface.prepare(cfg, tmp_path / "a", progress=False)
    utkface.prepare(cfg, tmp_path / "b", progress=False)
    _same_files(tmp_path / "a", tmp_path / "b")
    report = json.loads((tmp_path / "a" / "prepare_report.json").read_text())
    assert report["augmented_copies"] > 0
    assert not [k for k in report if "second" in k or "per_s" in k or "time" in k]
