"""Helpers shared by the callbacks: optimizer access, deep copies, log values."""

import copy

import keras
import numpy as np

from zoo import compat
from zoo.errors import UserValueError


def require_optimizer(model, who):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise UserValueError(
            f"{who} needs a compiled model. Call `model.compile(optimizer=...)` first."
        )
    return optimizer


def iterations(model):
    """`model.optimizer.iterations` as a Python int (0 without an optimizer)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return 0
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def retrace(model):
    """Rebuilds the compiled train step so it reads the optimizer's new hyperparameters."""
    if getattr(model, "train_function", None) is not None:
        model.make_train_function(force=True)


class DeepCopyable:
    """`copy.deepcopy` support for callbacks (keras-tuner copies them per trial).

    Attributes named in `_transient` are runtime state (the model, summary
    writers): a copy gets a fresh value from the factory instead. Those in
    `_shared` are handles the copy must keep (a dataset's epoch variable).
    """

    _transient = {compat.CALLBACK_MODEL_ATTRIBUTE: lambda: None}
    _shared = ()

    def __deepcopy__(self, memo):
        cls = type(self)
        new = cls.__new__(cls)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if key in self._transient:
                new.__dict__[key] = self._transient[key]()
            elif key in self._shared:
                new.__dict__[key] = value
            else:
                new.__dict__[key] = copy.deepcopy(value, memo)
        return new


def to_float(value):
    """A log value (tensor, array, number) as a Python float."""
    return float(np.asarray(keras.ops.convert_to_numpy(value)).reshape(-1)[0])
