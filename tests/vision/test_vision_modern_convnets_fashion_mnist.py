"""The smallest ConvNeXt and RegNet train one short epoch on Fashion-MNIST with
the zoo's training step, on every backend: the training loss falls over the epoch (the
running mean keras reports after the last batch is below the mean of the first two batches').

The grey images enter through `input_shape=(32, 32, 1)`, padded to 32x32. Reduced widths keep
it to seconds.
"""

import keras
import numpy as np
import pytest

import zoo
from zoo.datasets import load_arrays

N = 512


def _images(size):
    (x, y), _ = load_arrays("fashion_mnist")
    x, y = x[:N].astype("float32") / 255.0, y[:N]
    pad = (size - 28) // 2
    return np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))), y


CASES = {
    "convnext_tiny": (32, dict(width_multiplier=1 / 12, depths=(1, 1, 1, 1))),
    "regnet_x_400mf": (32, dict(width_multiplier=0.25)),
}


@pytest.mark.slow
@pytest.mark.jax
@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_smallest_variant_trains_one_epoch(name):
    keras.utils.set_random_seed(0)
    size, kwargs = CASES[name]
    x, y = _images(size)
    model = zoo.create(name, input_shape=(size, size, 1), num_classes=10, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    losses = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: losses.append(float(logs["loss"])))
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[record])
    assert len(losses) == N // 32 and np.isfinite(losses).all()
    assert losses[-1] < np.mean(losses[:2]), losses
