#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/port_weights.py."""

import sys

from _backend import apply_backend_flag

if __name__ == "__main__":
    apply_backend_flag(sys.argv[1:])
    from zoo.jobs import port_weights

    sys.exit(port_weights.main(sys.argv[1:]))
