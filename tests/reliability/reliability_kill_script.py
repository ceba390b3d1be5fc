"""A train.py or tune.py job that SIGKILLs itself at its N-th write, for the fault tests.

    python reliability_kill_script.py N STAGE {train|tune} <job arguments>

STAGE is "written" (the temporary file is complete, not yet renamed: the target
keeps its old content) or "replaced" (renamed into place, the directory not yet
synced). The kill comes from a hook on the atomic write helper, so it lands at
that exact point, with no sleep.
"""

import os
import signal
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from _backend import apply_backend_flag  # noqa: E402


def main():
    n, stage, job, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    apply_backend_flag(argv)
    from zoo.utils import files

    count = 0

    def kill(path, at):
        nonlocal count
        if at == stage:
            count += 1
            if count == n:
                os.kill(os.getpid(), signal.SIGKILL)

    files.WRITE_HOOKS.append(kill)
    if job == "train":
        from zoo.jobs import train as module
    else:
        from zoo.jobs import tune as module
    sys.exit(module.main(argv))


if __name__ == "__main__":
    main()
