#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/train.py."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from zoo.jobs import apply_backend_flag  # noqa: E402

if __name__ == "__main__":
    apply_backend_flag(sys.argv[1:])
    from zoo.jobs import train  # noqa: E402

    sys.exit(train.main(sys.argv[1:]))
