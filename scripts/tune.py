#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/tune.py."""

from _backend import run

if __name__ == "__main__":
    run("tune")
