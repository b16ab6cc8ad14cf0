from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LTD_EXAMPLE = ROOT / "tests" / "data" / "ltd-example"  # 4 real LTD frames (README.md there)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run the test inside a temporary working directory (stages read/write relative paths)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
