#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/port_weights.py."""

from _backend import run

if __name__ == "__main__":
    run("port-weights")
