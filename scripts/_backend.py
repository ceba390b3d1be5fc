"""Applies `--backend B` to KERAS_BACKEND before anything imports keras."""

import os
import sys

BACKENDS = ("tensorflow", "jax", "torch")


def apply_backend_flag(argv):
    for i, arg in enumerate(argv):
        value = None
        if arg == "--backend" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--backend="):
            value = arg.split("=", 1)[1]
        if value is not None:
            if value not in BACKENDS:
                sys.exit(f"error: `--backend` must be one of {BACKENDS}. Received: {value!r}")
            os.environ["KERAS_BACKEND"] = value
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
