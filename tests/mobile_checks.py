"""Checks the mobile families' tests share (MobileNet, EfficientNet): one short epoch on
Fashion-MNIST, and that the parity check fails on a wrong BatchNorm epsilon.

```python
def test_smallest_variant_learns_fashion_mnist():
    check_learns_fashion_mnist("mobilenet_v3_small")
```
"""

import keras
import numpy as np
import pytest

import zoo
from ported_checks import check_port


class _BatchLosses(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def check_learns_fashion_mnist(name, examples=256, batch_size=32, **kwargs):
    """`name` at 28x28x1 (its documented input option for one-channel images) trains one epoch
    on the first `examples` Fashion-MNIST images: the epoch's running mean loss ends below
    the first batch's."""
    (x, y), _ = zoo.datasets.load_arrays("fashion_mnist")
    x, y = x[:examples].astype("float32") / 255.0, y[:examples]
    keras.utils.set_random_seed(0)
    model = zoo.create(name, input_shape=(28, 28, 1), num_classes=10, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    losses = _BatchLosses()
    model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0, callbacks=[losses])
    assert np.all(np.isfinite(losses.losses)), losses.losses
    assert losses.losses[-1] < losses.losses[0] - 0.05, losses.losses


def check_port_fails_with(name, zoo_args, build_reference, folder, **wrong):
    """The parity check of `build_reference` loaded into `name` with `zoo_args` and the
    `wrong` arguments (another BatchNorm epsilon) fails: the comparison sees the difference."""
    with pytest.raises(AssertionError, match="max \\|diff\\|"):
        check_port(name, {**zoo_args, **wrong}, build_reference, "torchvision", folder)
