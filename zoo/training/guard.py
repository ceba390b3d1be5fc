"""Stops training at the first step whose update left a weight NaN or inf.

The zoo step carries the check of the variables it just updated in the loss it
logs (`loss + 0 * sum(weights)`: the loss itself while they are finite, NaN as
soon as one is not), so the check adds no log entry and no host read of its own.
`NonFiniteGuard`, which `ZooModel.fit` puts first among the callbacks, raises
`NonFiniteError` at the first step whose logged loss is not finite, naming the
step and the first variable hit. Without the carried sum, keras's
`TerminateOnNaN` would see only the loss itself, which can stay finite while a
weight is NaN (a ReLU turns a NaN pre-activation into 0).
"""

import math

import keras
import numpy as np


class NonFiniteError(FloatingPointError):
    """Training produced a NaN or inf weight; raised at the step that did."""


class NonFiniteGuard(keras.callbacks.Callback):
    """Raises `NonFiniteError` at the first step reporting non-finite weights."""

    # keras may run batch-end callbacks on a worker thread; an error raised there
    # surfaces at the next step (or at the epoch's end, before any checkpoint)
    async_safe = True

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for key, value in (logs or {}).items():
            if (key.endswith("loss") and isinstance(value, (int, float))
                    and not math.isfinite(value)):
                self.model.stop_training = True
                raise NonFiniteError(self.describe(batch, key))

    def describe(self, batch, key="loss"):
        model = self.model
        steps = (self.params or {}).get("steps")
        where = f"epoch {self.epoch + 1}, batch {batch + 1}"
        if steps:
            where += f" (step {self.epoch * steps + batch + 1} of this fit)"
        hit = first_nonfinite_variable(model)
        if hit is None:
            return (f"Training stopped at {where}: the logged {key} is NaN or inf, although "
                    "every weight is still finite. Check the inputs and labels for NaN/inf and "
                    "lower the learning rate; weights saved before this step are kept.")
        return (
            f"Training stopped at {where}: the update left variable {hit!r} NaN or inf, "
            "whatever the loss itself shows. Check the inputs for NaN/inf and lower the "
            "learning rate; weights saved before this step are kept, none after it."
        )


def first_nonfinite_variable(model):
    """Path of the first trainable variable holding NaN or inf, else None."""
    for variable in model.trainable_variables:
        if not np.all(np.isfinite(keras.ops.convert_to_numpy(variable))):
            return variable.path
    return None
