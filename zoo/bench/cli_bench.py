"""`scripts/bench.py cli`: seconds `zoo list` and `zoo info NAME` take, beside `import zoo`.

Each command runs `--repeats` times (default 5) as its own process, as a user runs
it (`python -m zoo.cli ...`, the `zoo` console script's code), interleaved with
`python -c "import zoo"` (keras and TensorFlow imported); the median and the
minimum wall seconds of each are printed side by side, with the ratio to the
import. The targets (issue 21): `zoo list` <= 1 s, `zoo info NAME` <= 1.5 s on
the 2-core machine; they answer from the generated index (`zoo.catalogue`).

    python scripts/bench.py cli [--repeats 5] [--name vgg19]
"""

import os
import statistics
import subprocess
import sys
import time

from zoo.errors import UserValueError
from zoo.utils.command_line import ArgumentParser


def build_parser():
    p = ArgumentParser(prog="bench.py cli", description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="runs of each command (default 5)")
    p.add_argument("--name", default="vgg19", help="the model `zoo info` describes")
    return p


def _seconds(argv):
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=os.environ.copy())
    return time.perf_counter() - start


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.repeats < 1:
        raise UserValueError(f"`--repeats` must be >= 1. Received: --repeats {args.repeats}")
    commands = {
        "zoo list": ["-m", "zoo.cli", "list"],
        f"zoo info {args.name}": ["-m", "zoo.cli", "info", args.name],
        "import zoo": ["-c", "import zoo"],
    }
    times = {label: [] for label in commands}
    for _ in range(args.repeats):  # interleaved: a burst of load hits every command alike
        for label, command in commands.items():
            times[label].append(_seconds(command))
    base = statistics.median(times["import zoo"])
    print(f"{'command':<22} {'median s':>9} {'min s':>7} {'/ import zoo':>13}")
    for label, values in times.items():
        median = statistics.median(values)
        print(f"{label:<22} {median:>9.2f} {min(values):>7.2f} {median / base:>13.2f}")
    return 0
