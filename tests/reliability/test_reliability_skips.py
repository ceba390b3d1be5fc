"""The suite fails on a skipped test outside tests/skip_guard.py's allow-list."""

import os
import subprocess
import sys


def test_a_skip_outside_the_allow_list_fails_the_session(tmp_path):
    """tests/skip_guard.py, run on a probe file in a fresh pytest process."""
    probe = tmp_path / "test_probe.py"
    probe.write_text("import pytest\n\n"
                     "@pytest.mark.skip(reason='a placeholder')\n"
                     "def test_skipped():\n    pass\n\n"
                     "@pytest.mark.other\n"
                     "def test_runs():\n    pass\n")
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def pytest_status(*args):
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "skip_guard", "-p", "no:cacheprovider",
             "-c", os.devnull, "--rootdir", str(tmp_path), str(probe), *args],
            capture_output=True, text=True, cwd=tmp_path, timeout=120,
            env=dict(os.environ, PYTHONPATH=tests))
        return out.returncode, out.stdout

    code, out = pytest_status()
    assert code == 1 and "test_probe.py::test_skipped: Skipped: a placeholder" in out, out
    code, out = pytest_status("-m", "other")  # deselected, not skipped
    assert code == 0, out
