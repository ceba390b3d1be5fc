"""A pytest plugin: the session fails when a test is skipped outside `ALLOWED_SKIPS`.

A skipped test hides whatever it was meant to catch (a renamed family, a missing
package). Tests left out by `-m` are deselected, not skipped, and are not counted.
"""

import pytest

#: the only tests that may be skipped, with why (node id -> reason)
ALLOWED_SKIPS = {
    "tests/reliability/test_reliability_faults.py::test_a_real_full_disk":
        "`make test-faults` only, and only where a tmpfs may be mounted",
}
_UNEXPECTED_SKIPS = []


def pytest_runtest_logreport(report):
    if report.skipped and report.nodeid.split("[")[0] not in ALLOWED_SKIPS:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        _UNEXPECTED_SKIPS.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if _UNEXPECTED_SKIPS and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _UNEXPECTED_SKIPS:
        terminalreporter.section("skipped outside tests/skip_guard.py ALLOWED_SKIPS (fails)")
        for line in _UNEXPECTED_SKIPS:
            terminalreporter.line(line)
