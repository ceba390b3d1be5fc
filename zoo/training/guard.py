"""Stops training at the first step whose update left a weight NaN or inf.

The zoo step reports, with its logs, whether the variables it just updated
are all finite (`NONFINITE_KEY`). `NonFiniteGuard`, which `ZooModel.fit`
puts first among the callbacks, takes that entry out of the logs (so no
progress bar, history or checkpoint sees it) and raises `NonFiniteError` at
the first bad step, naming it and the first variable hit. keras's
`TerminateOnNaN` looks only at the logged loss, which can stay finite while
a weight is NaN (a ReLU turns a NaN pre-activation into 0).
"""

import keras
import numpy as np

#: the step's log entry: 1.0 when an updated variable is no longer finite
NONFINITE_KEY = "zoo_nonfinite_weights"


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
        if logs is None:
            return
        flag = logs.pop(NONFINITE_KEY, None)
        if flag:
            self.model.stop_training = True
            raise NonFiniteError(self.describe(batch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.pop(NONFINITE_KEY, None)

    def on_train_end(self, logs=None):
        if logs is not None:
            logs.pop(NONFINITE_KEY, None)

    def describe(self, batch):
        model = self.model
        steps = (self.params or {}).get("steps")
        where = f"epoch {self.epoch + 1}, batch {batch + 1}"
        if steps:
            where += f" (step {self.epoch * steps + batch + 1} of this fit)"
        hit = first_nonfinite_variable(model)
        return (
            f"Training stopped at {where}: the update left "
            f"{'variable ' + repr(hit) if hit else 'a weight'} NaN or inf, whatever the logged "
            "loss shows. Check the inputs for NaN/inf and lower the learning rate; weights "
            "saved before this step are kept, none after it."
        )


def first_nonfinite_variable(model):
    """Path of the first trainable variable holding NaN or inf, else None."""
    for variable in model.trainable_variables:
        if not np.all(np.isfinite(keras.ops.convert_to_numpy(variable))):
            return variable.path
    return None
