#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/bench.py."""

import sys

from _backend import apply_backend_flag

if __name__ == "__main__":
    apply_backend_flag(sys.argv[1:])
    from zoo.jobs import bench

    sys.exit(bench.main(sys.argv[1:]))
