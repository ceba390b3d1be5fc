#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/publish_weights.py."""

from _backend import run

if __name__ == "__main__":
    run("publish-weights")
