"""Benchmark suites behind `scripts/bench.py SUITE` (one module each, with `main(argv)`).

The suites sit above `zoo.jobs` and may use its public functions; nothing below
imports them.
"""

import importlib
import pkgutil
import sys

from zoo.utils.cli import USER_ERRORS, report


def suites():
    """Names of the suites: the modules of this package."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def check_report_paths(argv):
    """Refuses a `--json-out`/`--json` path the zoo may not write (a directory, a file it did
    not write), before the suite runs; the suites write their report there at the end."""
    from zoo.utils.ownership import check_output_file

    for i, arg in enumerate(argv):
        for flag in ("--json-out", "--json"):
            if arg == flag and i + 1 < len(argv):
                check_output_file(argv[i + 1], flag)
            elif arg.startswith(flag + "="):
                check_output_file(arg.split("=", 1)[1], flag)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    names = suites()
    if not argv or argv[0] not in names:
        print(f"usage: bench.py {{{','.join(names)}}} [options]")
        if argv:
            print(f"error: unknown suite. Received: {argv[0]!r}", file=sys.stderr)
        return 0 if not argv else 2
    try:
        check_report_paths(argv[1:])  # before a benchmark runs for minutes
        return importlib.import_module(f"zoo.bench.{argv[0]}").main(argv[1:])
    except USER_ERRORS as err:
        return report(err)
