"""Checks on what reaches `fit`/`evaluate`, raised before any work starts."""

import numpy as np

from zoo.utils.data import is_dataset

_NUMERIC_KINDS = "biuf"
_STRING_KINDS = "USO"


def check_training_data(model, x, y=None, argument="x"):
    """Raises ValueError/TypeError naming the argument if `x`/`y` cannot train `model`."""
    if x is None:
        return
    if is_dataset(x):
        check_dataset(model, x, argument)
        return
    if isinstance(x, (dict, list)) or not hasattr(x, "__len__") and not hasattr(x, "shape"):
        return  # multi-input data and generators: left to keras
    arr = _as_array(x, argument)
    _check_features(model, arr, argument)
    if y is not None:
        labels = _as_array(y, "y")
        if labels.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"`y` must hold numbers. Received: y with dtype {labels.dtype}")
        if len(labels) != len(arr):
            raise ValueError(
                f"`{argument}` and `y` must have the same number of examples. "
                f"Received: {len(arr)} and {len(labels)}"
            )
        check_labels(model, labels)


def check_validation_data(model, validation_data):
    if is_dataset(validation_data):
        check_dataset(model, validation_data, "validation_data")
        return
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        x, y = validation_data[0], validation_data[1]
        check_training_data(model, x, y, argument="validation_data")
        return
    raise ValueError(
        "`validation_data` must be a tf.data.Dataset or a tuple (x, y[, sample_weight]). "
        f"Received: {type(validation_data).__name__}"
    )


def check_dataset(model, dataset, argument):
    import tensorflow as tf

    cardinality = int(dataset.cardinality())
    if cardinality == 0:
        raise ValueError(f"`{argument}` is an empty dataset. Received: cardinality 0")
    spec = dataset.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(x_spec, tf.TensorSpec):
        return
    if x_spec.dtype == tf.string:
        if not model.accepts_strings:
            raise TypeError(
                f"`{argument}` yields strings, but {type(model).__name__} takes numbers. "
                f"Received: dtype {x_spec.dtype.name}"
            )
        return
    _check_shape(model, tuple(x_spec.shape), argument)


def _as_array(x, argument):
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"`{argument}` cannot be read as an array. Received: {type(x).__name__} ({err})"
        ) from None
    return arr


def _check_features(model, arr, argument):
    if arr.size == 0 or len(arr) == 0:
        raise ValueError(f"`{argument}` is empty. Received: shape {arr.shape}")
    kinds = _NUMERIC_KINDS + (_STRING_KINDS if model.accepts_strings else "")
    if arr.dtype.kind not in kinds:
        raise TypeError(
            f"`{argument}` must hold numbers"
            + (" or strings" if model.accepts_strings else "")
            + f". Received: {argument} with dtype {arr.dtype}"
        )
    if arr.dtype.kind in _STRING_KINDS:
        return
    _check_shape(model, arr.shape, argument)


def _check_shape(model, batch_shape, argument):
    expected = model.expected_input_shape()
    if expected is None:
        return
    got = tuple(batch_shape[1:])
    ok = len(got) == len(expected) and all(
        e is None or g is None or int(e) == int(g) for e, g in zip(expected, got)
    )
    if not ok:
        raise ValueError(
            f"`{argument}` does not match the model's input shape {expected} "
            f"(rank {len(expected) + 1} with the batch). Received: {argument} with "
            f"shape {tuple(batch_shape)}"
        )


def check_labels(model, labels):
    num_classes = model.num_output_classes()
    if num_classes is None:
        return
    flat = labels.reshape(len(labels), -1) if labels.ndim > 1 else labels[:, None]
    if flat.shape[1] != 1:
        return  # one-hot or multi-output targets: left to the loss
    flat = flat[:, 0]
    if labels.dtype.kind == "f" and not np.all(np.mod(flat, 1) == 0):
        example = flat[np.mod(flat, 1) != 0][0].item()
        raise ValueError(
            f"`y` must hold integer class ids. Received: non-integer label {example!r}"
        )
    lo, hi = flat.min(), flat.max()
    if lo < 0 or hi >= num_classes:
        bad = (lo if lo < 0 else hi).item()
        raise ValueError(f"`y` labels must lie in [0, {num_classes}). Received: label {bad!r}")
