#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/export.py."""

import sys

from _backend import apply_backend_flag

if __name__ == "__main__":
    apply_backend_flag(sys.argv[1:])
    from zoo.jobs import export

    sys.exit(export.main(sys.argv[1:]))
