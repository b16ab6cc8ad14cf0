"""The lock file (requirements/lock.txt) covers pyproject.toml: every direct dependency, the dev extra's included,
is pinned to one exact version inside the range pyproject.toml declares, and the pins the results were produced
with (requirements/pins.txt) are the versions locked."""
import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def pins(text: str) -> dict[str, Version]:
    """``name==version`` lines of a pip requirements file (comments, options and indented lines ignored)."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line or line[0] in "#- \t":
            continue
        m = PIN.match(line)
        assert m, f"line {n} is not an exact pin: {line!r}"
        name = canonicalize_name(m.group(1))
        assert name not in out, f"line {n}: {name} pinned twice"
        out[name] = Version(m.group(2))
    return out


def direct_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]]


LOCK = pins((ROOT / "requirements" / "lock.txt").read_text())


def test_pins_parser():
    text = ("# header\n--find-links x\nnumpy==2.4.6\n    # via pandas\nruamel-yaml==0.18.1 ; python_version >= '3'\n"
            "Torch==2.14.1\n")
    assert pins(text) == {"numpy": Version("2.4.6"), "ruamel-yaml": Version("0.18.1"), "torch": Version("2.14.1")}
    with pytest.raises(AssertionError, match="not an exact pin"):
        pins("numpy>=2\n")


@pytest.mark.parametrize("req", direct_requirements(), ids=str)
def test_every_direct_dependency_is_locked_inside_its_range(req):
    name = canonicalize_name(req.name)
    assert name in LOCK, f"{req.name} is a dependency in pyproject.toml but not in requirements/lock.txt"
    assert req.specifier.contains(LOCK[name], prereleases=True), \
        f"{req.name}=={LOCK[name]} in the lock is outside pyproject.toml's range {req.specifier}"


def test_the_lock_holds_the_pinned_versions():
    constraints = pins((ROOT / "requirements" / "pins.txt").read_text())
    assert constraints, "requirements/pins.txt pins nothing"
    for name, version in constraints.items():
        assert LOCK.get(name) == version, f"{name}: pins.txt says {version}, lock.txt {LOCK.get(name)}"
