"""Job entry points behind `scripts/*.py` and the `zoo` command.

Nothing here imports keras at module level: `--backend` must be applied first.
"""

import os
import sys

BACKENDS = ("tensorflow", "jax", "torch")


def apply_backend_flag(argv):
    """Sets KERAS_BACKEND from `--backend B` / `--backend=B` before keras loads."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--backend" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--backend="):
            value = arg.split("=", 1)[1]
        if value is not None:
            if value not in BACKENDS:
                sys.exit(f"error: `--backend` must be one of {BACKENDS}. Received: {value!r}")
            if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "tensorflow") != value:
                sys.exit("error: keras was imported before `--backend` could be applied.")
            os.environ["KERAS_BACKEND"] = value
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
