#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/export.py."""

from _backend import run

if __name__ == "__main__":
    run("export")
