"""`scripts/bench.py SUITE`: speed benchmarks that print figures side by side.

Each suite lives in `zoo.bench.<suite>` with a `main(argv)`.
"""

import importlib
import pkgutil
import sys


def suites():
    import zoo.bench

    return sorted(
        m.name for m in pkgutil.iter_modules(zoo.bench.__path__) if not m.name.startswith("_")
    )


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    names = suites()
    if not argv or argv[0] not in names:
        print(f"usage: bench.py {{{','.join(names)}}} [options]")
        return 0 if not argv else 2
    return importlib.import_module(f"zoo.bench.{argv[0]}").main(argv[1:])
