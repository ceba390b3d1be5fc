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


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    names = suites()
    if not argv or argv[0] not in names:
        print(f"usage: bench.py {{{','.join(names)}}} [options]")
        if argv:
            print(f"error: unknown suite. Received: {argv[0]!r}", file=sys.stderr)
        return 0 if not argv else 2
    try:
        return importlib.import_module(f"zoo.bench.{argv[0]}").main(argv[1:])
    except USER_ERRORS as err:
        return report(err)
