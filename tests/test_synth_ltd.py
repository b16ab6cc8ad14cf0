"""Synthetic LTD generator: layout, formats, tracks, determinism, class mix, brightness drift, params."""
import re
import zipfile
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from stages.core.config import ParamError
from stages.data import synth_ltd as S
from stages.data.source import open_source
from stages.synthesize_ltd import load_config
from tests.tolerance import EXP_ROUNDINGS, sum_tol

LINE = re.compile(r"^(\d{8}) (human|bicycle|motorcycle|vehicle|vehicie) (\d+) (\d+) (\d+) (\d+) ([01])$")


def make_cfg(out, **kw) -> S.SynthConfig:
    base = dict(out=str(out), seed=0, start_date="20200514", end_date="20210430", dates=2, clips_per_date=1,
                frames_per_clip=5, mean_objects=2.6)
    return S.SynthConfig(**{**base, **kw})


def read_dataset(root: Path) -> dict:
    """{(day, clip folder): [per frame: list of (id, class, x0, y0, x1, y1, flag)]}, checking every line."""
    clips = {}
    for clip_dir in sorted((root / "annotations").glob("*/*")):
        files = sorted(clip_dir.glob("annotations_*.txt"))
        frames = []
        for t, f in enumerate(files):
            assert f.name == f"annotations_{t:04d}.txt"
            text = f.read_bytes().decode()
            rows = []
            for line in text.replace("\r\n", "\n").split("\n")[:-1] if text else []:
                m = LINE.match(line)
                assert m, f"{f}: bad line {line!r}"
                tid, cls, *box, flag = m.groups()
                x0, y0, x1, y1 = map(int, box)
                assert 0 <= x0 < x1 <= S.W and 0 <= y0 < y1 <= S.H, f"{f}: box outside the frame: {line}"
                rows.append((int(tid), cls, x0, y0, x1, y1, int(flag)))
            frames.append(rows)
        clips[(clip_dir.parent.name, clip_dir.name)] = frames
    return clips


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    cfg = make_cfg(tmp_path_factory.mktemp("tiny") / "ltd")
    S.write_dataset(cfg, progress=False)
    return Path(cfg.out)


@pytest.fixture(scope="module")
def larger(tmp_path_factory) -> Path:
    cfg = make_cfg(tmp_path_factory.mktemp("larger") / "ltd", dates=8, clips_per_date=2, frames_per_clip=25, seed=3)
    S.write_dataset(cfg, progress=False)
    return Path(cfg.out)


def test_layout_and_names(tiny):
    assert sorted(p.name for p in tiny.iterdir()) == ["annotations", "frames"]
    assert not tiny.with_name(tiny.name + ".tmp").exists()
    days = sorted(p.name for p in (tiny / "frames").iterdir())
    assert days == ["20200514", "20210430"]                       # 2 dates: first and last day
    clips = sorted((tiny / "frames").glob("*/*"))
    numbers = sorted(int(re.fullmatch(r"clip_(\d+)_(\d{4})", c.name).group(1)) for c in clips)
    assert numbers == [1, 2]                                       # running over the whole dataset
    for c in clips:
        hhmm = c.name.split("_")[2]
        assert int(hhmm[:2]) < 24 and int(hhmm[2:]) < 60
        assert sorted(p.name for p in c.iterdir()) == [f"image_{t:04d}.jpg" for t in range(5)]
        ann = tiny / "annotations" / c.relative_to(tiny / "frames")
        assert sorted(p.name for p in ann.iterdir()) == [f"annotations_{t:04d}.txt" for t in range(5)]


def test_images_are_grayscale_jpegs(tiny):
    for f in (tiny / "frames").glob("*/*/*.jpg"):
        assert f.read_bytes()[:2] == b"\xff\xd8"
        img = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        assert img.shape == (288, 384) and img.dtype == np.uint8  # one channel, 384 wide x 288 high


def test_annotation_lines(tiny):
    clips = read_dataset(tiny)                                     # checks every line's format and box
    assert sum(len(rows) for frames in clips.values() for rows in frames) > 0


def test_empty_frames_have_empty_files(tmp_path):
    cfg = make_cfg(tmp_path / "ltd", dates=1, frames_per_clip=3, mean_objects=0.0)
    stats = S.write_dataset(cfg, progress=False)
    files = list((tmp_path / "ltd" / "annotations").glob("*/*/*.txt"))
    assert len(files) == 3 and all(f.stat().st_size == 0 for f in files)
    assert stats["hist"] == {0: 3}


def on_bike(r, rows) -> bool:
    """A human box whose bottom rests inside a bicycle/motorcycle box below it (a rider)."""
    return any(q[1] in ("bicycle", "motorcycle") and q[2] < r[4] and r[2] < q[4] and q[3] < r[5] <= q[5]
               for q in rows)


def test_tracks_persist_and_move_smoothly(larger):
    clips = read_dataset(larger)
    owner, kept, total, long_tracks, walkers = {}, 0, 0, 0, 0
    for key, frames in clips.items():
        tracks, riders = defaultdict(dict), set()
        for t, rows in enumerate(frames):
            ids = [r[0] for r in rows]
            assert len(ids) == len(set(ids))
            for r in rows:
                assert owner.setdefault(r[0], key) == key, f"track {r[0]} in two clips"
                tracks[r[0]][t] = r
                if r[1] == "human" and on_bike(r, rows):
                    riders.add(r[0])
        for t in range(len(frames) - 1):                           # most objects are still there a second later
            total += len(frames[t])
            kept += sum(r[0] in {q[0] for q in frames[t + 1]} for r in frames[t])
        for tid, seq in tracks.items():
            long_tracks += len(seq) >= 5
            classes = {r[1].replace("vehicie", "vehicle") for r in seq.values()}
            assert len(classes) == 1
            walker = classes == {"human"} and tid not in riders
            walkers += walker
            inside = {t: r for t, r in seq.items() if r[2] > 0 and r[4] < S.W and r[3] > 0 and r[5] < S.H}
            centre = {t: np.array([(r[2] + r[4]) / 2, (r[3] + r[5]) / 2]) for t, r in inside.items()}
            for t in centre:
                if t + 1 in centre:
                    step = np.abs(centre[t + 1] - centre[t]).max()
                    assert step <= (40 if walker else 150), (tid, t, step)
                if walker and t + 1 in centre and t + 2 in centre:
                    accel = np.abs(centre[t + 2] - 2 * centre[t + 1] + centre[t]).max()
                    assert accel <= 12, (tid, t, accel)            # walking: nearly constant velocity
    assert kept / total > 0.85 and long_tracks >= 10 and walkers >= 10


def test_deterministic(tmp_path):
    a, b, c = (make_cfg(tmp_path / n / "ltd") for n in "abc")
    c.seed = 1
    for cfg in (a, b, c):
        S.write_dataset(cfg, progress=False)

    def files(cfg):
        root = Path(cfg.out)
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    fa, fb, fc = files(a), files(b), files(c)
    assert fa == fb
    assert fa != fc


def test_class_mix_quirks_and_counts(larger):
    clips = read_dataset(larger)
    rows = [r for frames in clips.values() for f in frames for r in f]
    classes = Counter(r[1] for r in rows)
    assert classes["human"] > 0.6 * len(rows)
    assert classes["human"] > classes["vehicle"] + classes["vehicie"] > classes["bicycle"] + classes["motorcycle"] > 0
    assert 0 < classes["vehicie"] < 0.15 * (classes["vehicle"] + classes["vehicie"])
    assert {r[6] for r in rows} == {0, 1}
    counts = Counter(len(f) for frames in clips.values() for f in frames)
    n = sum(counts.values())
    # mean_objects 2.6: frames of one clip share their tracks, so the 16 clips (not the 400 frames) are the
    # independent samples; their means' spread gives the standard error of the overall mean (about 0.46 here),
    # and 4 of them bound a sampling deviation. The calibration itself is checked on 300 independent clips in
    # test_counts_are_poisson_like.
    per_clip = np.array([np.mean([len(f) for f in frames]) for frames in clips.values()])
    se = per_clip.std(ddof=1) / np.sqrt(len(per_clip))
    assert abs(len(rows) / n - 2.6) < 4 * se
    assert sum(counts[k] for k in range(1, 5)) > 0.6 * n


def test_object_sizes_perspective_and_warmth(larger):
    clips = read_dataset(larger)
    humans = []
    contrast = []
    for (day, clip), frames in clips.items():
        for t, rows in enumerate(frames):
            img = cv2.imread(str(larger / "frames" / day / clip / f"image_{t:04d}.jpg"), cv2.IMREAD_UNCHANGED)
            small = cv2.resize(img, (96, 72), interpolation=cv2.INTER_AREA).astype(float)   # the model's input
            for _, cls, x0, y0, x1, y1, flag in rows:
                if cls == "human" and y1 < S.H:
                    humans.append((y1, y1 - y0, x1 - x0))
                if flag:
                    cell = small[y0 // 4:max(y0 // 4 + 1, y1 // 4), x0 // 4:max(x0 // 4 + 1, x1 // 4)]
                    ring = small[max(0, y0 // 4 - 2):y1 // 4 + 3, max(0, x0 // 4 - 2):x1 // 4 + 3]
                    contrast.append(cell.max() - np.median(ring))
                if cls.startswith("vehic"):
                    assert x1 - x0 <= 160 and y1 - y0 <= 70
    y, h, w = np.array(humans).T
    assert h.min() >= 14 and h.max() <= 64 and w.min() >= 5 and w.max() <= 20
    assert np.corrcoef(y, h)[0, 1] > 0.9                            # larger lower in the image
    assert np.percentile(contrast, 5) > 20                          # warm blobs still visible at 72 x 96


def test_summer_background_brighter_than_winter(tmp_path):
    cfg = make_cfg(tmp_path / "ltd", start_date="20200718", end_date="20210118", frames_per_clip=2,
                   mean_objects=0.0)
    S.write_dataset(cfg, progress=False)
    means = {p.parent.parent.name: cv2.imread(str(p), cv2.IMREAD_UNCHANGED).mean()
             for p in (tmp_path / "ltd" / "frames").glob("*/*/image_0000.jpg")}
    assert means["20200718"] > means["20210118"] + 25


def test_ambient_hand_computed():
    summer = date(2020, 7, 18)                                      # day of year 200 = PEAK_DOY
    # float64: two cosines (library calls) and a few roundings on terms up to the amplitudes
    tol = sum_tol(2 * EXP_ROUNDINGS + 6, S.SEASON_AMP + S.DIURNAL_AMP, np.float64)
    assert S.ambient(summer, 15 * 60) == pytest.approx(S.SEASON_AMP + S.DIURNAL_AMP, abs=tol)
    assert S.ambient(summer, 3 * 60) == pytest.approx(S.SEASON_AMP - S.DIURNAL_AMP, abs=tol)
    winter = date(2021, 1, 16)                                      # 182.6 days later: about the coldest
    # not rounding: day 16 is 184 days after the peak, 1.4 days past the half year, so the seasonal term is
    # SEASON_AMP (1 - cos(2 pi 1.375 / 365.25)) = 2.2e-4 above its minimum; 1e-3 allows up to about 3 days off the
    # half year, not a shifted season
    assert S.ambient(winter, 15 * 60) == pytest.approx(-S.SEASON_AMP + S.DIURNAL_AMP, abs=1e-3)


def test_recording_days():
    d = S.recording_days(date(2020, 1, 1), date(2020, 1, 11), 3)
    assert d == [date(2020, 1, 1), date(2020, 1, 6), date(2020, 1, 11)]
    assert S.recording_days(date(2020, 1, 1), date(2020, 1, 2), 1) == [date(2020, 1, 1)]
    assert len(set(S.recording_days(date(2020, 1, 1), date(2020, 1, 20), 20))) == 20
    with pytest.raises(ValueError):
        S.recording_days(date(2020, 1, 1), date(2020, 1, 2), 3)


def test_visible_share_hand_computed():
    tol = sum_tol(3, 1.0, np.float64)  # 1 - (pixel count) / (box area): 2 roundings, the hand value 1 more; all <= 1
    assert S.visible_share((-10, 0, 10, 10), []) == pytest.approx(0.5, abs=tol)              # half outside the frame
    assert S.visible_share((180, 0, 200, 10), []) == pytest.approx(9 / 20, abs=tol)          # mast covers x 184..194
    assert S.visible_share((10, 10, 20, 20), [(0, 0, 30, 30)]) == pytest.approx(0, abs=tol)   # behind a larger box
    # a nearer 10 x 10 box shrunk to its central 8 x 8 hides 8 x 8 of a 20 x 10 box
    assert S.visible_share((0, 100, 20, 110), [(10, 100, 20, 110)]) == pytest.approx(1 - 8 * 8 / 200, abs=tol)
    rng = np.random.default_rng(0)                                  # agrees with the vectorised version
    x0, y0 = rng.integers(-50, 380, 200), rng.integers(-50, 280, 200)
    boxes = np.stack([x0, y0, x0 + rng.integers(1, 80, 200), y0 + rng.integers(1, 60, 200)], 1)
    ref = [S.visible_share(tuple(b), []) for b in boxes.tolist()]
    assert np.allclose(S.intrinsic_visible(boxes), ref, rtol=0, atol=tol)  # integer products, one division


def test_counts_are_poisson_like():
    rates = S.calibrate_rates(2.6, 0)
    counts, per_clip = [], []
    for k in range(300):
        frames, _ = S.annotate_clip(S.simulate_clip(np.random.default_rng([5, k]), rates, 3), 3)
        counts += [len(ann) for _, ann in frames]
        per_clip.append(np.mean([len(ann) for _, ann in frames]))
    counts = np.array(counts)
    # the 300 clips are independent (their frames are not): 4 standard errors of the clip means (about 0.09 here)
    assert abs(counts.mean() - 2.6) < 4 * np.std(per_clip, ddof=1) / np.sqrt(len(per_clip))
    assert 0.6 < counts.var() / counts.mean() < 1.5
    assert 0.02 < (counts == 0).mean() < 0.15


@pytest.mark.parametrize("name", ["ltd", "ltd.zip"])
def test_write_dataset_replaces_output_and_cleans_up(tmp_path, monkeypatch, name):
    out = tmp_path / name
    (out / "stale").mkdir(parents=True)
    S.write_dataset(make_cfg(out, dates=1, frames_per_clip=1), progress=False)
    src = open_source(out)
    assert src.listdir() == ["annotations", "frames"] and not (tmp_path / name / "stale").exists()
    assert (out.is_file() and zipfile.is_zipfile(out)) == name.endswith(".zip")
    before = sorted(p.name for p in tmp_path.iterdir())

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(S.writer, "generate", boom)
    with pytest.raises(RuntimeError):
        S.write_dataset(make_cfg(out, dates=1, frames_per_clip=1), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == before        # the last good copy, no temporary left
    assert open_source(out).listdir() == ["annotations", "frames"]


def section(**kw):
    base = dict(out="x", seed=0, start_date="20200514", end_date="20210430", dates=10, clips_per_date=3,
                frames_per_clip=40, mean_objects=2.6)
    return {"data": {"ltd": {"synth": {**base, **kw}}}}


def test_params_validation():
    assert load_config(section()).dates == 10
    with pytest.raises(ParamError, match=r"data\.ltd\.synth\.start_date"):
        load_config(section(start_date="2020-05-14"))
    with pytest.raises(ParamError, match=r"data\.ltd\.synth\.end_date"):
        load_config(section(end_date="20200101"))
    with pytest.raises(ParamError, match=r"data\.ltd\.synth\.dates"):
        load_config(section(start_date="20200101", end_date="20200103", dates=4))
    with pytest.raises(ParamError, match=r"data\.ltd\.synth\.colour"):
        load_config(section(colour=1))
    with pytest.raises(ParamError, match=r"data\.ltd\.synth\.frames_per_clip"):
        load_config(section(frames_per_clip=0))


def test_warm_clutter_is_not_person_like():
    """Unannotated warm things are squat/wide or small and cooler than people (REFERENCE.md: people are the
    warmest upright blobs), so that a counting model can tell them apart at its 72 x 96 input."""
    scene = S.build_scene(0)
    for a in (-1.2, 0.0, 1.2):
        bg = scene.background(a)[0]
        person = S.HUMAN_T - S.HUMAN_T_SD + S.HUMAN_AMB * a       # a cool person (one SD below the mean)
        assert bg[5:].max() < person, a                           # nothing in the static scene is as warm
        ground = S.GROUND_T + S.AMBIENT_RANGE * a
        warm = (bg > ground + 40).astype(np.uint8)
        n, _, st, _ = cv2.connectedComponentsWithStats(warm, connectivity=8)
        for x, y, w, h, _ in st[1:]:
            assert not (h >= S.MIN_PX["human"][1] and h >= 2 * w), (a, x, y, w, h)   # no upright person-sized blob
