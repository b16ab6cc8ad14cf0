"""UTKFace data stages: name parsing, synthetic folder, thesis preparation, split statistics."""
import copy
import json

import cv2
import numpy as np
import pandas as pd
import pytest

from stages.core.config import ParamError
from stages.data import synth_utk, utk_stats, utkface
from stages.data.arrays import SPLITS, load_meta, load_split
from stages.data.utkface import BadName, check_name, deal, group_index, parse_name, subsample

GROUPS = [[20, 28], [28, 36], [36, 44], [44, 52], [52, 60]]
CFG = {
    "synth": {"out": "unused", "seed": 0, "n_faces": 10},
    "root": None, "seed": 5, "subsample": 1.0, "age_min": 20, "age_max": 60, "min_size": 64,
    "image_size": 16, "split": {"train": 0.6, "val": 0.2, "test": 0.2},
    "augment": {"min_per_age": 4, "rotation": 10.0, "shift": 0.1, "zoom": 0.2, "hflip": 0.5},
    "forget_groups": GROUPS, "forget_group": 1,
}


def make_cfg(root, **over):
    cfg = copy.deepcopy(CFG)
    cfg["root"] = str(root)
    cfg.update(over)
    return utkface.check_params(cfg)


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    out = tmp_path_factory.mktemp("utk") / "faces"
    synth_utk.synthesize(out, n_faces=150, seed=3, progress=False)
    return out


@pytest.fixture(scope="module")
def prepared(faces, tmp_path_factory):
    out = tmp_path_factory.mktemp("prep") / "utk"
    report = utkface.prepare(make_cfg(faces), out, progress=False)
    tables = {s: load_split("", s, root=out) for s in SPLITS}
    return out, report, tables


# ----------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name, fields, reason", [
    ("39_1_20170116174525125.jpg.chip.jpg", (39, 1, None), "race field missing"),
    ("61_1_20170109142408075.jpg.chip.jpg", (61, 1, None), "race field missing"),
    ("61_1_20170109150557335.jpg.chip.jpg", (61, 1, None), "race field missing"),
    ("24_0_1_20170116220224657 .jpg.chip.jpg", (24, 0, 1), "space before the extension"),
    ("55_0_0_20170116232725357jpg.chip.jpg", (55, 0, 0), "no dot before the extension"),
])
def test_the_five_malformed_names_keep_their_age(name, fields, reason):
    assert parse_name(name) == fields
    assert check_name(name) == (fields, reason)
    assert synth_utk.MALFORMED[name] == fields          # the generator writes exactly these


def test_well_formed_names():
    assert check_name("26_1_2_20170116184028385.jpg.chip.jpg") == ((26, 1, 2), None)
    assert check_name("/any/dir/1_0_4_20161219203650636.jpg.chip.jpg") == ((1, 0, 4), None)
    assert check_name("100_1_0_20170112213001988.jpg") == ((100, 1, 0), None)   # in-the-wild naming
    assert check_name("30_7_0_20170112213001988.jpg.chip.jpg") == ((30, None, 0), "gender field '7' unreadable")


@pytest.mark.parametrize("name", ["x_0_0_20170108222213466.jpg.chip.jpg", "_1_0_20170108222213466.jpg.chip.jpg",
                                  "999_0_0_20170108222213466.jpg.chip.jpg", "readme.txt"])
def test_name_without_age_raises_naming_the_file(name):
    with pytest.raises(BadName, match=name[:6]):
        parse_name(name)


# -------------------------------------------------------------------------- stratification
def test_deal_hand_computed():
    assert deal(5, [0.6, 0.2, 0.2]).tolist() == [0, 1, 0, 2, 0]
    assert deal(10, [0.3, 0.7]).tolist() == [1, 0, 1, 1, 0, 1, 1, 1, 0, 1]
    assert deal(4, [1.0, 0.0]).tolist() == [0, 0, 0, 0]


def test_deal_every_prefix_within_one_item_of_the_shares():
    rng = np.random.default_rng(0)
    for _ in range(50):
        shares = rng.dirichlet(np.ones(rng.integers(2, 5)))
        parts = deal(120, shares)
        counts = np.cumsum(np.eye(len(shares))[parts], axis=0)
        ideal = np.outer(np.arange(1, 121), shares)
        assert np.abs(counts - ideal).max() < 1


def test_subsample_keeps_the_age_distribution():
    ages = np.repeat([20, 21, 22, 70, 71, 72], [10, 20, 30, 1, 1, 1])
    keep = subsample(np.random.default_rng(1).permutation(ages), 0.3, np.random.default_rng(2))
    kept = pd.Series(np.random.default_rng(1).permutation(ages)[keep]).value_counts()
    assert [kept.get(a, 0) for a in (20, 21, 22)] == [3, 6, 9]           # exact: 30 % of each age
    assert keep.sum() == 19                                                # round(0.3 * 63)
    # a large draw from the synthetic age distribution: every age within 2 of 30 %
    big = synth_utk.sample_people(20000, np.random.default_rng(3))[0]
    sub = subsample(big, 0.3, np.random.default_rng(4))
    full, part = np.bincount(big, minlength=117), np.bincount(big[sub], minlength=117)
    assert np.abs(part - 0.3 * full).max() < 2


def test_group_index_half_open_last_closed():
    ages = [19, 20, 27, 28, 35, 36, 51, 52, 59, 60, 61]
    assert group_index(ages, GROUPS).tolist() == [-1, 0, 0, 1, 1, 2, 3, 4, 4, 4, -1]


# ------------------------------------------------------------------------------ synthetic
def test_synthetic_folder_is_deterministic_and_well_formed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    synth_utk.synthesize(a, n_faces=12, seed=7, progress=False)
    synth_utk.synthesize(b, n_faces=12, seed=7, progress=False)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert len(names) == 12 + 4 + 2                        # faces + 4 defective images + 2 non-image files
    img = cv2.imread(str(a / "39_1_20170116174525125.jpg.chip.jpg"))
    assert img.shape == (200, 200, 3)
    synth_utk.synthesize(b, n_faces=12, seed=8, progress=False)   # another seed: other faces, same folder
    assert len(set(names) - {p.name for p in b.iterdir()}) > 10


def test_synthetic_age_distribution_is_utkface_shaped():
    ages = synth_utk.sample_people(20000, np.random.default_rng(0))[0]
    h = np.bincount(ages, minlength=117) / len(ages)
    assert 0.6 < h[20:61].sum() < 0.8 and h[20:36].sum() > h[36:61].sum()    # many 20-35
    assert h[1] > 0.03 and h[:16].sum() > 0.1                                # babies and children
    assert ages.max() >= 100 and h[61:].sum() > 0.05                         # long tail
    assert 22 <= np.argmax(h[16:]) + 16 <= 32


# ---------------------------------------------------------------------------- preparation
def test_bad_input_is_counted_listed_and_excluded(prepared):
    _, report, tables = prepared
    assert report["non_image"]["count"] == 2 and "readme.txt" in report["non_image"]["files"]
    assert report["malformed_names"]["count"] == 5
    assert [b["file"][:2] for b in report["bad_names"]["files"]] == ["x_"]
    reasons = sorted(u["reason"] for u in report["unreadable"]["files"])
    assert len(reasons) == 2 and "truncated" in reasons[1] and "decoded" in reasons[0]
    assert report["too_small"]["count"] == 1
    bad = {u["file"] for k in ("unreadable", "too_small") for u in report[k]["files"]}
    used = set(pd.concat([t.table["source"] for t in tables.values()]))
    assert not bad & used
    assert {"39_1_20170116174525125.jpg.chip.jpg", "24_0_1_20170116220224657 .jpg.chip.jpg",
            "55_0_0_20170116232725357jpg.chip.jpg"} <= used          # malformed names keep their face


def test_split_is_disjoint_stratified_and_complete(prepared):
    out, report, tables = prepared
    orig = {s: t.table[~t.table["augmented"]] for s, t in tables.items()}
    names = [set(t["file_name"]) for t in orig.values()]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert sum(map(len, names)) == report["after_filter"]
    ages = pd.concat(orig.values())["age"]
    assert ages.between(20, 60).all()
    for age, n in ages.value_counts().items():
        for s, share in CFG["split"].items():
            assert abs((orig[s]["age"] == age).sum() - share * n) < 2
    meta = load_meta("", root=out)
    assert meta["image_size"] == [16, 16] and meta["channels"] == 3 and len(meta["mean"]) == 3
    for t in tables.values():
        assert t.images.dtype == np.uint8 and t.images.shape[1:] == (3, 16, 16)


def test_augmentation_tops_up_train_only(prepared):
    _, report, tables = prepared
    train = tables["train"].table
    before = train.loc[~train["augmented"], "age"].value_counts()
    after = train["age"].value_counts()
    for age, n in before.items():
        assert after[age] == max(n, 4)                     # topped up to min_per_age, never beyond
    assert (before >= 4).any() and (before < 4).any()      # both cases occur
    for s in ("val", "test"):
        assert not tables[s].table["augmented"].any()
        assert (tables[s].table["source"] == tables[s].table["file_name"]).all()
    aug = train[train["augmented"]]
    src = train.set_index("file_name").loc[aug["source"]]
    assert (src["age"].to_numpy() == aug["age"].to_numpy()).all() and not src["augmented"].any()
    rows = {n: i for i, n in enumerate(train["file_name"])}
    imgs = tables["train"].images
    diff = [np.abs(imgs[i].astype(int) - imgs[rows[s]]).mean() for i, s in zip(aug.index, aug["source"])]
    assert min(diff) > 0
    assert report["age_hist"]["after_augmentation"]["val"] == report["age_hist"]["before_augmentation"]["val"]


@pytest.mark.parametrize("aug", [{"rotation": 10.0, "shift": 0.1, "zoom": 0.2},
                                 {"rotation": 45.0, "shift": 0.3, "zoom": 0.5}])
def test_augmented_copies_have_no_empty_corners(aug):
    # a flat image stays flat: the border is edge-replicated, never filled with black
    images = np.full((2, 3, 24, 24), 200, np.uint8)
    table = pd.DataFrame({"file_name": ["a", "b"], "age": [30, 31], "gender": [0, 1], "race": [0, 0]})
    cfg = {"min_per_age": 6, "hflip": 0.5, **aug}
    out, t = utkface.augment(images, table, cfg, seed=0)
    assert out.shape == (12, 3, 24, 24) and (out == 200).all()
    assert t["source"].tolist()[2:] == ["a"] * 5 + ["b"] * 5 and t["augmented"].sum() == 10


def test_forget_and_retain_partition_the_training_split(prepared):
    out, report, tables = prepared
    train = tables["train"].table
    assert (train["group"].to_numpy() == group_index(train["age"], GROUPS)).all()
    forget = train["forget"].to_numpy()
    assert (forget == (train["group"] == 1).to_numpy()).all()
    assert forget.sum() == report["forget_size"] and (~forget).sum() == report["retain_size"]
    assert forget.sum() + (~forget).sum() == len(train) and forget.any() and (~forget).any()
    assert train.loc[forget, "age"].between(28, 35).all()
    meta = load_meta("", root=out)
    assert meta["forget_interval"] == [28, 36] and meta["forget_closed"] is False


def test_same_seed_same_output(faces, prepared, tmp_path):
    out, _, _ = prepared
    cfg = make_cfg(faces)
    utkface.prepare(cfg, tmp_path / "again", progress=False)
    for f in sorted(p.name for p in out.iterdir()):
        assert (out / f).read_bytes() == (tmp_path / "again" / f).read_bytes(), f
    utkface.prepare(make_cfg(faces, seed=6, subsample=0.5), tmp_path / "other", progress=False)
    other = json.loads((tmp_path / "other" / "prepare_report.json").read_text())
    assert abs(other["after_subsample"] - 0.5 * other["faces"]) < 1
    assert (tmp_path / "other" / "train.csv").read_bytes() != (out / "train.csv").read_bytes()


def test_params_cross_checks(faces):
    with pytest.raises(ParamError, match="forget_group"):
        make_cfg(faces, forget_group=5)
    with pytest.raises(ParamError, match=r"forget_groups\[1\]"):
        make_cfg(faces, forget_groups=[[20, 30], [28, 36]])
    with pytest.raises(ParamError, match=r"forget_groups\[0\]"):
        make_cfg(faces, forget_groups=[[18, 30]])
    with pytest.raises(ParamError, match="split"):
        make_cfg(faces, split={"train": 0.6, "val": 0.3, "test": 0.2})
    with pytest.raises(ParamError, match="age_min"):
        make_cfg(faces, age_min=60, age_max=20)


def test_split_stats_metrics_and_figures(prepared, tmp_path):
    out, report, tables = prepared
    m = utk_stats.compute(out)
    assert m["files"]["unreadable"] == 2 and m["files"]["malformed_names"] == 5
    assert m["sizes"]["train"] + m["sizes"]["val"] + m["sizes"]["test"] == m["sizes"]["kept"]
    assert sum(m["age_hist"]["train_after"].values()) == len(tables["train"].table) == m["sizes"]["train_augmented"]
    assert m["train_per_age"]["min_before"] < 4 <= m["train_per_age"]["min_after"]
    assert m["train_per_age"]["ages_missing"] == len(report["ages_without_train_images"])
    assert m["forget"]["forget"] + m["forget"]["retain"] == m["sizes"]["train_augmented"]
    paths = utk_stats.figures(out, tmp_path / "fig")
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    hist = pd.read_csv(tmp_path / "fig" / "age_hist.csv")
    # wide: one column per split, so that DVC draws one line per split (a long table drew one zig-zag line)
    assert list(hist.columns) == ["age", "train_before", "train_after", "val", "test"]
    assert hist["test"].sum() == len(tables["test"].table)
    assert hist["train_after"].sum() == len(tables["train"].table)
    assert hist["age"].tolist() == list(range(20, 61))
    groups = pd.read_csv(tmp_path / "fig" / "forget_groups.csv")
    assert list(groups.columns) == ["group", "interval", "train_before", "train_after", "val", "test"]
