#!/usr/bin/env python
"""Thin entry point: see zoo/bench/__init__.py."""

from _backend import run

if __name__ == "__main__":
    run("bench")
