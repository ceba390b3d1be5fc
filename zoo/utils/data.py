"""What kind of data a caller passed, and its images as one array."""

import sys

import numpy as np

from zoo.errors import UserValueError


def is_dataset(x):
    """True for a `tf.data.Dataset` (TensorFlow is not imported to find out)."""
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(x, tf.data.Dataset)


def dataset_images(test_dataset):
    """All `x` of a dataset of (x, y) batches (or arrays) as one float32 numpy array."""
    if isinstance(test_dataset, np.ndarray):
        return test_dataset.astype("float32")
    chunks = []
    for batch in test_dataset:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        chunks.append(np.asarray(x, dtype="float32"))
    if not chunks:
        raise UserValueError("`test_dataset` is empty. Received: 0 batches")
    return np.concatenate(chunks, axis=0)
