"""What the keras-tuner search tests share: a toy 3-class problem and a quieter heap."""

import gc

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def frozen_heap():
    """keras-tuner runs gc.collect() around every trial; the objects the test session
    already holds are left out of those scans (time only, no effect on results)."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


def toy_data(n=96, seed=0):
    """(x, y): 8 normal features; the class counts how many of two thresholds x passes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    return x, (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")
