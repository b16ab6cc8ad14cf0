"""The LTD loader: the real sample, bad input, splits and relabelling."""
import numpy as np
import pandas as pd
import pytest

from stages.data import ltd, splits
from tests.conftest import LTD_EXAMPLE


def test_real_sample_reproduces_annotations_csv():
    df = ltd.read_annotations(LTD_EXAMPLE)
    ref = pd.read_csv(LTD_EXAMPLE / "annotations.csv", sep=";", index_col=0)
    got = df.set_index("file_name").loc[ref["file_name"]]
    for c in ltd.CLASSES:
        assert got[c].tolist() == ref[c].tolist(), c
    assert got["time"].tolist() == ref["date_captured"].tolist()
    assert got["id"].tolist() == ref["id"].tolist()
    assert df["human"].dtype == np.int64
    images, ok = ltd.load_frames(LTD_EXAMPLE, list(df["file_name"]), (72, 96), progress=False)
    assert ok.all() and images.shape == (4, 1, 72, 96) and images.dtype == np.uint8


def write_tree(root, frames: dict, images=True):
    """frames: {(date, clip, n): [annotation lines] or None (no annotation file)}."""
    import cv2

    for (date, clip, n), lines in frames.items():
        f = root / "frames" / date / clip
        a = root / "annotations" / date / clip
        f.mkdir(parents=True, exist_ok=True)
        a.mkdir(parents=True, exist_ok=True)
        if images:
            cv2.imwrite(str(f / f"image_{n:04d}.jpg"), np.full((288, 384), 90 + n, np.uint8))
        if lines is not None:
            (a / f"annotations_{n:04d}.txt").write_text("".join(l + "\n" for l in lines))


GOOD = ["00000001 human 10 20 20 60 1", "00000002 vehicie 100 100 200 150 0", "00000003 bicycle 0 0 384 288 1"]


def test_counts_typo_and_empty_frames(tmp_path):
    write_tree(tmp_path, {("20200601", "clip_1_1200", 0): GOOD, ("20200601", "clip_1_1200", 1): []})
    df = ltd.read_annotations(tmp_path)
    assert df[["human", "bicycle", "motorcycle", "vehicle"]].values.tolist() == [[1, 1, 0, 1], [0, 0, 0, 0]]
    assert df["time"].tolist() == ["2020-06-01T12:00:00", "2020-06-01T12:00:01"]
    assert ltd.boxes_table(df)["cls"].tolist() == ["human", "vehicle", "bicycle"]


@pytest.mark.parametrize("line,reason", [
    ("00000001 dog 10 20 20 60 1", "unknown class 'dog'"),
    ("00000001 human 10 20 20 60", "expected 7 fields, got 6"),
    ("00000001 human 10 20 2x 60 1", "non-integer box"),
    ("00000001 human 30 20 20 60 1", "inverted or empty box"),
    ("00000001 human 10 20 20 300 1", "outside the 384x288 frame"),
    ("1 human 10 20 20 60 1", "track id '1' is not 8 digits"),
])
def test_bad_lines_raise_with_file_and_line_or_skip(tmp_path, line, reason):
    write_tree(tmp_path, {("20200601", "clip_1_1200", 0): [GOOD[0], line, GOOD[1]]})
    with pytest.raises(ltd.AnnotationError, match=rf"annotations_0000\.txt:2: .*{reason}"):
        ltd.read_annotations(tmp_path)
    report = ltd.Report()
    df = ltd.read_annotations(tmp_path, on_error="skip", report=report)
    assert len(report.skipped_lines) == 1 and "annotations_0000.txt:2" in report.skipped_lines[0]
    # the frame is excluded and counted, never kept with one object fewer
    assert df.empty and len(report.bad_line_frames) == 1 and report.summary()["frames_with_bad_lines"] == 1


def test_missing_annotation_file_and_unreadable_image_excluded(tmp_path):
    write_tree(tmp_path, {("20200601", "clip_1_1200", 0): GOOD, ("20200601", "clip_1_1200", 1): None,
                          ("20200601", "clip_1_1200", 2): GOOD})
    (tmp_path / "annotations/20200601/clip_1_1200/annotations_0003.txt").write_text(GOOD[0] + "\n")  # orphan
    report = ltd.Report()
    df = ltd.read_annotations(tmp_path, report=report)
    assert df["frame"].tolist() == [0, 2]  # frame 1 has no annotation file: excluded, not an empty frame
    assert len(report.missing_annotations) == 1 and "image_0001.jpg" in report.missing_annotations[0]
    assert len(report.orphan_annotations) == 1
    bad = tmp_path / "frames/20200601/clip_1_1200/image_0002.jpg"
    bad.write_bytes(bad.read_bytes()[:200])  # truncated JPEG
    images, ok = ltd.load_frames(tmp_path, list(df["file_name"]), (72, 96), progress=False)
    assert ok.tolist() == [True, False]


def test_counts_do_not_overflow(tmp_path):
    lines = [f"{i:08d} human 10 20 20 60 1" for i in range(300)]
    write_tree(tmp_path, {("20200601", "clip_1_1200", 0): lines})
    assert ltd.read_annotations(tmp_path)["human"].tolist() == [300]


def _frames(n_dates=10, clips=3):
    rows = []
    for d in range(n_dates):
        for c in range(clips):
            for f in range(4):
                rows.append({"date": f"2020-06-{d + 1:02d}", "clip": f"clip_{d * clips + c}_1{c}00",
                             "time": f"2020-06-{d + 1:02d}T1{c}:00:{f:02d}"})
    return pd.DataFrame(rows)


def test_split_whole_clips_spread_over_dates():
    df = _frames()
    s = splits.split_clips(df, {"train": 0.6, "val": 0.2, "test": 0.2})
    per_clip = s.groupby(df["clip"]).nunique()
    assert (per_clip == 1).all()  # no clip in two splits
    assert set(df["date"]) == set(df["date"][s.notna()])  # all dates covered
    clips = df.assign(split=s).drop_duplicates("clip")
    assert clips["split"].value_counts().to_dict() == {"train": 18, "val": 6, "test": 6}
    dates = sorted(df["date"].unique())
    for name in ("val", "test"):  # each split spans the period, not one block of it
        got = clips.loc[clips["split"] == name, "date"]
        assert got.min() <= dates[2] and got.max() >= dates[-3]


def test_rebalance_percentiles():
    y = np.array([0, 1, 1, 2, 2, 2, 3, 3, 8, 9, 10, 12])
    idx = splits.rebalance(y, high_percentile=70, high_keep=0.5, low_percentile=10, low_factor=3, seed=0)
    counts = np.bincount(idx, minlength=len(y))
    hi, lo = np.percentile(y, 70, method="inverted_cdf"), np.percentile(y, 10, method="inverted_cdf")
    assert (counts[y < lo] == 3).all()
    assert counts[y > hi].sum() == round(0.5 * (y > hi).sum()) and counts[y > hi].max() <= 1
    assert (counts[(y >= lo) & (y <= hi)] == 1).all()
    assert (idx == splits.rebalance(y, 70, 0.5, 10, 3, seed=0)).all()


def test_prepare_relabels_and_packs(tmp_path):
    from stages.data import ltd_prepare
    from stages.data import arrays

    rng = np.random.default_rng(0)
    tree = {}
    for d in range(5):
        for c in range(2):
            for n in range(3):
                k = int(rng.integers(0, 4))
                lines = [f"{d * 100 + c * 10 + i:08d} {'human' if i % 2 else 'vehicle'} {10 + 30 * i} 20 {30 + 30 * i} 60 1"
                         for i in range(k)]
                tree[(f"2020060{d + 1}", f"clip_{d * 2 + c}_1{c}00", n)] = lines
    write_tree(tmp_path / "ltd", tree)
    cfg = {"root": str(tmp_path / "ltd"), "forget_class": "human", "frame_stride": 1, "image_size": [36, 48],
           "on_error": "raise", "split": {"train": 0.6, "val": 0.2, "test": 0.2},
           "rebalance": {"high_percentile": 70, "high_keep": 0.5, "low_percentile": 10, "low_factor": 2, "seed": 0}}
    stats = ltd_prepare.prepare(cfg, tmp_path / "out")
    assert stats["frames_kept"] == 30
    for split in arrays.SPLITS:
        s = arrays.load_split("out", split, tmp_path)
        t = s.table
        assert s.images.shape[1:] == (1, 36, 48) and s.images.dtype == np.uint8
        assert (t["y"] == t[["human", "bicycle", "motorcycle", "vehicle"]].sum(axis=1)).all()
        assert (t["y_prime"] == t["y"] - t["human"]).all()
        assert len(s.boxes) == t["y"].sum()
        assert s.boxes["x_br"].max() <= 48 and s.boxes["y_br"].max() <= 36  # rescaled to the input size
        if split != "train":
            assert t["file_name"].is_unique  # val/test keep the natural distribution
    metrics = ltd_prepare.write_figures(tmp_path / "out", tmp_path / "figures")  # stage prepare@ltd's figures
    hist = pd.read_csv(tmp_path / "figures" / "count_hist.csv")
    assert list(hist.columns) == ["count", "train", "val", "test"]
    assert {s: metrics[s]["frames"] for s in arrays.SPLITS} == {s: int(hist[s].sum()) for s in arrays.SPLITS}
    assert (tmp_path / "figures" / "count_hist.png").stat().st_size > 0
    assert not list(tmp_path.glob("*.tmp"))


def test_count_histogram_is_wide_one_column_per_split():
    """DVC draws one line per y column: the long table (count, split, frames) drew a zig-zag across the splits."""
    from stages.data import ltd_stats

    long = pd.DataFrame({"count": [0, 1, 2, 0, 2, 1], "split": ["train", "train", "train", "val", "val", "test"],
                         "frames": [5, 7, 1, 2, 3, 4]})
    w = ltd_stats.wide(long)
    assert list(w.columns) == ["count", "train", "val", "test"]
    assert w["count"].tolist() == [0, 1, 2]
    assert w["train"].tolist() == [5, 7, 1] and w["val"].tolist() == [2, 0, 3] and w["test"].tolist() == [0, 4, 0]
