"""`DataEpoch`: keeps a dataset's epoch variable equal to fit's epoch."""

import keras

from callbacks._common import DeepCopyable
from zoo.errors import UserTypeError


class DataEpoch(DeepCopyable, keras.callbacks.Callback):
    """Sets `variable` to the epoch index at the start of every epoch.

    With `zoo.datasets.load(..., epoch=variable)` the shuffle order of epoch k
    is a function of (seed, k) only, so a run resumed at epoch k (see
    `Checkpoint`) sees the same batches as an uninterrupted one. keras creates
    the epoch's data iterator after `on_epoch_begin`, on every backend.
    Deep copies share the variable: it belongs to the dataset.

    Args:
        variable: an int64 `tf.Variable` captured by the dataset.

    Example:

    ```python
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    train, test = zoo.datasets.load("fashion_mnist", seed=0, epoch=epoch)
    model.fit(train, epochs=5, callbacks=[DataEpoch(epoch)])
    ```
    """

    _shared = ("variable",)

    def __init__(self, variable):
        super().__init__()
        if not hasattr(variable, "assign"):
            raise UserTypeError(
                f"`variable` must be a tf.Variable. "
                f"Received: variable={variable!r}"
            )
        self.variable = variable

    def on_epoch_begin(self, epoch, logs=None):
        self.variable.assign(epoch)
