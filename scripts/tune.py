#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/tune.py."""

import sys

from _backend import apply_backend_flag

if __name__ == "__main__":
    apply_backend_flag(sys.argv[1:])
    from zoo.jobs import tune

    sys.exit(tune.main(sys.argv[1:]))
