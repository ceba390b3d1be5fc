#!/usr/bin/env python
"""Thin entry point: see zoo/jobs/pretrain_text.py."""

from _backend import run

if __name__ == "__main__":
    run("pretrain-text")
