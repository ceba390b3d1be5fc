"""Job entry points behind `scripts/*.py` and the `zoo` command (one module each)."""
