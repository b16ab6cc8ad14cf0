"""The repository stands alone: no test, stage or script names a path above the repository root.

A clone with nothing beside it must run every test and stage. Three ways a file can reach outside the root are
rejected: a relative path that climbs (``../``), a folder that only exists beside the repository (``shared``), and a
``Path(__file__)`` walk that goes higher than the root (``parents[k]`` from a file fewer than ``k`` levels down,
``ROOT.parent``).
"""
import re
from pathlib import Path

import pytest

from tests.conftest import LTD_EXAMPLE, ROOT

CHECKED = ("tests", "stages", "bench", ".ci")
CLIMB = re.compile(r"\.\.[/\\]")
BESIDE = re.compile(r"[/\\]shared[/\\]|[\"']shared[\"']\s*/|/\s*[\"']shared[\"']")
PARENTS = re.compile(r"__file__\)(?:\.resolve\(\))?\.parents\[(\d+)\]")
ROOT_PARENT = re.compile(r"\bROOT\.parent\b")


def outside_refs(text: str, depth: int) -> list[str]:
    """Each line of ``text`` that names a path above the repository root, for a file ``depth`` folders below it
    (``tests/x.py`` has depth 1). ``Path(__file__).parents[k]`` is the folder ``k + 1`` levels up from the file, so
    ``parents[depth]`` is the root and a larger ``k`` is above it."""
    bad = []
    for n, line in enumerate(text.splitlines(), 1):
        if CLIMB.search(line) or BESIDE.search(line) or ROOT_PARENT.search(line) \
                or any(int(k) > depth for k in PARENTS.findall(line)):
            bad.append(f"{n}: {line.strip()}")
    return bad


def checked_files():
    for top in CHECKED:
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file() and p.suffix in {".py", ".sh", ".yaml", ".yml", ".toml", ".txt", ""} \
                    and p != Path(__file__).resolve() and "__pycache__" not in p.parts:
                yield p


@pytest.mark.parametrize("line,depth", [
    ('LTD = ROOT.parent / "shared" / "data"', 1),
    ("root = Path('../data/ltd-example')", 1),
    ('ROOT = Path(__file__).resolve().parents[2]', 1),
    ('ROOT = Path(__file__).parents[3]', 2),
    ('remote = Path("/work/shared/cache")', 1),
    ('open("..\\\\shared\\\\x")', 1),
])
def test_each_way_out_is_caught(line, depth):
    assert outside_refs(line, depth) == [f"1: {line}"]


@pytest.mark.parametrize("line,depth", [
    ('ROOT = Path(__file__).resolve().parents[1]', 1),  # tests/x.py -> the root itself
    ('ROOT = Path(__file__).resolve().parents[2]', 2),
    ('dvc(a, "remote", "add", "-d", "shared", str(remote))', 1),  # a remote's name, not a path
    ('p = root / "data" / "ltd-example"', 1),
    ('x = shared_scale', 1),
])
def test_paths_inside_the_root_pass(line, depth):
    assert outside_refs(line, depth) == []


def test_no_file_names_a_path_above_the_root():
    found = {}
    for p in checked_files():
        rel = p.relative_to(ROOT)
        bad = outside_refs(p.read_text(errors="replace"), len(rel.parts) - 1)
        if bad:
            found[str(rel)] = bad
    assert not found, f"paths above the repository root: {found}"


def test_the_real_ltd_sample_is_in_the_repository():
    assert LTD_EXAMPLE.resolve().is_relative_to(ROOT)
    assert sorted(p.name for p in LTD_EXAMPLE.rglob("*.jpg")) == ["image_0000.jpg", "image_0000.jpg",
                                                                    "image_0102.jpg", "image_0102.jpg"]
    assert (LTD_EXAMPLE / "annotations.csv").is_file()
