"""Helpers shared by the callbacks: argument checks, optimizer access, deep copies."""

import copy
import json
import os

import keras
import numpy as np


def check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value > 0:
        raise ValueError(f"`{name}` must be a number > 0. Received: {name}={value!r}")
    return float(value)


def check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value >= 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def check_positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{name}` must be an int > 0. Received: {name}={value!r}")
    return int(value)


def check_fraction(name, value, low_open=True, high_open=True):
    """Value in (0, 1) (open ends by default)."""
    bad = isinstance(value, bool) or not isinstance(value, (int, float, np.number))
    if not bad:
        bad = (value <= 0 if low_open else value < 0) or (value >= 1 if high_open else value > 1)
    if bad:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"`{name}` must be in {lo}0, 1{hi}. Received: {name}={value!r}")
    return float(value)


def inner_optimizer(optimizer):
    """The optimizer under a `LossScaleOptimizer`, else `optimizer`."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def leaf_optimizers(optimizer):
    """The optimizers that update variables: each player's for a `PlayerOptimizers`."""
    players = getattr(optimizer, "by_player", None)
    if isinstance(players, dict):
        return [inner_optimizer(o) for o in players.values()]
    return [inner_optimizer(optimizer)]


def require_optimizer(model, who):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(
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

    _transient = {"_model": lambda: None}
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


def write_json_atomic(path, obj):
    """Writes JSON to a temporary file, syncs it, then renames it over `path`."""
    path = str(path)
    tmp = os.path.join(os.path.dirname(path) or ".", f".tmp-{os.getpid()}-{os.path.basename(path)}")
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, default=_json_default)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def to_float(value):
    """A log value (tensor, array, number) as a Python float."""
    return float(np.asarray(keras.ops.convert_to_numpy(value)).reshape(-1)[0])
