"""Benchmark suites behind `scripts/bench.py SUITE`: one module `SUITE_bench.py` each,
with `main(argv)` (the suffix keeps their file names apart from the jobs and families
they measure).

The suites sit above `zoo.jobs` and may use its public functions; nothing below
imports them.
"""

import importlib
import pkgutil
import sys

from zoo.utils.command_line import USER_ERRORS, report

SUFFIX = "_bench"


def suites():
    """Names of the suites: the modules `SUITE_bench` of this package."""
    return sorted(m.name[: -len(SUFFIX)] for m in pkgutil.iter_modules(__path__)
                  if m.name.endswith(SUFFIX))


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
        return importlib.import_module(f"zoo.bench.{argv[0]}{SUFFIX}").main(argv[1:])
    except USER_ERRORS as err:
        return report(err)
