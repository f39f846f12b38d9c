"""A clone without ../shared/fixtures says at the top of the test run what it skips and why."""
from __future__ import annotations

import shutil
import subprocess
import sys

from .conftest import ROOT


def test_a_run_without_fixtures_names_the_skipped_tests_first(tmp_path):
    clone = tmp_path / "clone"  # no shared/ beside it
    shutil.copytree(ROOT / "tests", clone / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", clone)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_feeds.py",
                           "tests/test_search_syntax.py"], cwd=clone, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"fixtures: {tmp_path / 'shared' / 'fixtures'} not found: 1 test that")
    assert "tests/test_feeds.py (1)" in lines[0] and "test_search_syntax" not in lines[0]
    assert "shared/ folder beside the clone" in lines[1]
    assert lines[-1].endswith("1 skipped in " + lines[-1].rsplit(" in ", 1)[1]) and "passed" in lines[-1]


def test_a_run_with_fixtures_says_nothing_about_them():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
                           "tests/test_feeds.py"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert (ROOT.parent / "shared" / "fixtures").is_dir() == ("fixtures:" not in done.stdout)
