"""A dataset copy given as a .zip reads exactly like the folder it was made of (stages/data/source.py).

Each reader is run on a folder and on a zip of it, and everything it returns is compared: tables, decoded
images, the counts and the messages naming files (the zip's read ``<copy>.zip/<path inside>``).
"""
import filecmp
import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest

from stages.data import ltd_prepare
from stages.data import ltd, synth_utk, utkface
from stages.data.source import Folder, Zip, open_source, write_zip
from tests.conftest import LTD_EXAMPLE
from tests.test_bad_inputs import BAD_PATHS, CLIP, _make_bad, five_clips, ltd_cfg
from tests.test_ltd import GOOD, write_tree
from tests.test_utkface import make_cfg


def zip_by_hand(folder, out, top=None):
    """A zip as made by an archiver: directory entries, OS time stamps, files under ``top/``, compressed,
    macOS's __MACOSX companion folder."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            rel = os.path.relpath(root, folder)
            arc = "/".join(p for p in (top, "" if rel == "." else rel) if p)
            if arc:
                z.writestr(arc + "/", b"")
            for f in sorted(files):
                z.write(os.path.join(root, f), f"{arc}/{f}" if arc else f)
        if top:
            z.writestr(f"__MACOSX/{top}/._frames", b"\0\5\26\7")
    return out


def test_write_zip_is_byte_identical_for_the_same_files(tmp_path):
    for name, order in (("a", ["x/2.txt", "x/1.txt", "y.jpg"]), ("b", ["y.jpg", "x/1.txt", "x/2.txt"])):
        for i, rel in enumerate(order):
            p = tmp_path / name / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(rel.encode())
            os.utime(p, (1e9 + i * 1e6, 1e9 + i * 1e6))        # other times, other creation order
    assert write_zip(tmp_path / "a", tmp_path / "a.zip") == 3
    write_zip(tmp_path / "b", tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        assert z.namelist() == ["x/1.txt", "x/2.txt", "y.jpg"] and z.read("x/2.txt") == b"x/2.txt"
    assert oct((tmp_path / "a.zip").stat().st_mode & 0o777) != oct(0o600)   # normal permissions


def test_open_source_picks_the_kind_and_names_entries(tmp_path):
    write_tree(tmp_path / "ltd", {(*CLIP, 0): GOOD})
    folder, z = open_source(tmp_path / "ltd"), open_source(zip_by_hand(tmp_path / "ltd", tmp_path / "c.zip", "LTD"))
    assert isinstance(folder, Folder) and isinstance(z, Zip)
    rel = f"frames/{CLIP[0]}/{CLIP[1]}/image_0000.jpg"
    assert folder.show(rel) == str(tmp_path / "ltd" / rel) and z.show(rel) == f"{tmp_path}/c.zip/LTD/{rel}"
    for src in (folder, z):                                    # the single top folder is entered
        assert src.listdir() == ["annotations", "frames"] and src.is_dir("frames") and src.is_file(rel)
        assert not src.is_file("frames") and not src.is_dir(rel) and src.count("frames", ".jpg") == 1
        assert src.read_bytes(rel) == (tmp_path / "ltd" / rel).read_bytes()
    with pytest.raises(FileNotFoundError, match=r"c\.zip/LTD/frames/nope\.jpg"):
        z.read_bytes("frames/nope.jpg")
    (tmp_path / "bad.zip").write_bytes(b"PK\3\4 not really")
    with pytest.raises(ValueError, match=r"bad\.zip: not a readable zip archive"):
        open_source(tmp_path / "bad.zip")


def test_ltd_example_reads_the_same_from_a_zip(tmp_path):
    archive = zip_by_hand(LTD_EXAMPLE, tmp_path / "ltd-example.zip", top="ltd-example")
    a, b = ltd.read_annotations(LTD_EXAMPLE), ltd.read_annotations(archive)
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)
    names = list(a["file_name"])
    (ia, oka), (ib, okb) = (ltd.load_frames(r, names, (72, 96), progress=False) for r in (LTD_EXAMPLE, archive))
    assert oka.all() and np.array_equal(oka, okb) and np.array_equal(ia, ib) and ia.any()


@pytest.mark.parametrize("kind,rel,n,words", BAD_PATHS)
def test_bad_names_in_a_zip_are_counted_and_named_inside_it(tmp_path, kind, rel, n, words):
    folder = tmp_path / "ltd"
    write_tree(folder, {(*CLIP, 0): GOOD, (*CLIP, 1): GOOD})
    _make_bad(folder, rel, n)
    (folder / "frames" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    archive = tmp_path / "ltd.zip"
    write_zip(folder, archive)
    reports = {}
    for root in (folder, archive):
        reports[root] = ltd.Report()
        df = ltd.read_annotations(root, on_error="skip", report=reports[root])
        assert df["frame"].tolist() == [0, 1]
    rf, rz = reports[folder], reports[archive]
    as_zip = json.dumps([rf.summary(), rf.bad_names, rf.ignored_hidden]).replace(str(folder), str(archive))
    assert json.loads(as_zip) == [rz.summary(), rz.bad_names, rz.ignored_hidden]
    assert rz.summary()["frames_in_bad_names"] == n and rz.summary()["ignored_hidden"] == 1
    assert words in rz.bad_names[0] and f"{archive}/frames/" in rz.bad_names[0]
    with pytest.raises(ltd.LayoutError, match=rf"ltd\.zip/frames/.*{words}"):
        ltd.read_annotations(archive)


def test_bad_lines_and_unreadable_frames_in_a_zip_name_the_member(tmp_path):
    folder = tmp_path / "ltd"
    write_tree(folder, {(*CLIP, 0): GOOD + ["00000009 dog 1 2 3 4 1"], (*CLIP, 1): GOOD, (*CLIP, 2): GOOD})
    (folder / "frames" / CLIP[0] / CLIP[1] / "image_0002.jpg").write_bytes(b"\xff\xd8 cut")
    archive = tmp_path / "ltd.zip"
    write_zip(folder, archive)
    with pytest.raises(ltd.AnnotationError, match=rf"ltd\.zip/annotations/{CLIP[0]}/{CLIP[1]}/annotations_0000\.txt:4"):
        ltd.read_annotations(archive)
    df = ltd.read_annotations(archive, on_error="skip")
    _, problems = ltd.read_frames(archive, list(df["file_name"]), (36, 48), progress=False)
    assert df["frame"].tolist() == [1, 2] and problems[0] is None and problems[1][0] == "unreadable"


def test_prepare_ltd_writes_the_same_outputs_from_a_zip(tmp_path):
    five_clips(tmp_path / "ltd")
    write_zip(tmp_path / "ltd", tmp_path / "ltd.zip")
    ltd_prepare.prepare(ltd_cfg(tmp_path / "ltd"), tmp_path / "a")
    ltd_prepare.prepare(ltd_cfg(tmp_path / "ltd.zip"), tmp_path / "b")
    names = sorted(os.listdir(tmp_path / "a"))
    assert names == sorted(os.listdir(tmp_path / "b")) and len(names) > 3
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", names, shallow=False)
    assert not mismatch and not errors


def test_utkface_scan_and_prepare_read_the_same_from_a_zip(tmp_path):
    folder = tmp_path / "faces"
    synth_utk.synthesize(folder, n_faces=40, seed=3, progress=False)
    synth_utk.synthesize(tmp_path / "faces.zip", n_faces=40, seed=3, progress=False)
    archive = zip_by_hand(folder, tmp_path / "by_hand.zip", top="UTKFace")
    (fa, ra), (fz, rz), (fh, rh) = (utkface.scan(r, 64, progress=False) for r in
                                    (folder, tmp_path / "faces.zip", archive))
    pd.testing.assert_frame_equal(fa, fz)
    pd.testing.assert_frame_equal(fa, fh)
    for r in (rz, rh):
        assert {k: v for k, v in r.items() if k != "root"} == {k: v for k, v in ra.items() if k != "root"}
    assert ra["unreadable"]["count"] >= 2 and ra["non_image"]["count"] >= 1
    names = list(fa.loc[fa["usable"], "file_name"][:10])
    assert np.array_equal(utkface.load_images(folder, names, 16, False), utkface.load_images(archive, names, 16, False))
    utkface.prepare(make_cfg(folder), tmp_path / "a", progress=False)
    utkface.prepare(make_cfg(tmp_path / "faces.zip"), tmp_path / "b", progress=False)
    for name in sorted(os.listdir(tmp_path / "a")):
        a, b = (tmp_path / d / name for d in "ab")
        if name.endswith(".json"):
            ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
            assert {k: v for k, v in ja.items() if k != "root"} == {k: v for k, v in jb.items() if k != "root"}, name
        else:
            assert a.read_bytes() == b.read_bytes(), name


def test_a_layout_folder_is_not_taken_for_a_wrapper(tmp_path):
    """A zip holding only LTD's frames/ is an LTD copy missing its annotations, not a folder zipped by hand: the
    reader says annotations/ is missing, naming it at the zip's root (not "frames/frames")."""
    write_tree(tmp_path / "ltd", {(*CLIP, 0): GOOD})
    archive = tmp_path / "frames_only.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted((tmp_path / "ltd" / "frames").rglob("*.jpg")):
            z.write(p, p.relative_to(tmp_path / "ltd").as_posix())
    assert open_source(archive).is_dir(CLIP[0])                 # no layout given: entered, as a wrapper would be
    src = ltd.open_copy(archive)
    assert src.is_dir("frames") and src.show("annotations") == f"{archive}/annotations"
    with pytest.raises(FileNotFoundError, match=rf"^{tmp_path}/frames_only\.zip/annotations: no such folder"):
        ltd.read_annotations(archive)
    wrapped = zip_by_hand(tmp_path / "ltd", tmp_path / "wrapped.zip", top="frames")  # a wrapper named like a tree
    assert ltd.open_copy(wrapped).is_dir("frames/frames")      # read from its top: the layout decides, not the name


@pytest.mark.parametrize("kind", ["ltd", "utk"])
def test_prepare_opens_a_zip_once_and_readers_take_an_open_copy(tmp_path, monkeypatch, kind):
    """prepare builds a zip's member index once and hands the open copy to each reader (annotations and frames;
    the scan and every split's images); an open copy passes through open_source unchanged."""
    if kind == "ltd":
        five_clips(tmp_path / "src")
        write_zip(tmp_path / "src", tmp_path / "copy.zip")
        run = lambda: ltd_prepare.prepare(ltd_cfg(tmp_path / "copy.zip"), tmp_path / "out")  # noqa: E731
    else:
        synth_utk.synthesize(tmp_path / "copy.zip", n_faces=300, seed=3, progress=False)
        run = lambda: utkface.prepare(make_cfg(tmp_path / "copy.zip"), tmp_path / "out", progress=False)  # noqa: E731
    opened = []
    init = Zip.__init__
    monkeypatch.setattr(Zip, "__init__", lambda self, *a, **k: (opened.append(a[0]), init(self, *a, **k))[1])
    run()
    assert [str(p) for p in opened] == [str(tmp_path / "copy.zip")]
    src = open_source(tmp_path / "copy.zip")
    assert open_source(src) is src and ltd.open_copy(src) is src
