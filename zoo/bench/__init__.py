"""Benchmark suites for scripts/bench.py (one module each)."""
