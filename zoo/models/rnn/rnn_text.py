"""Input handling shared by text families: string checks and tf.data mapping.

Kept out of the model's traced step: vectorizing strings is `tf.data`
preprocessing (keras's `TextVectorization` is a TF-only layer), so text
families map it over the input pipeline, where it runs on every backend.
"""

import keras
import numpy as np

from zoo.errors import UserTypeError, UserValueError

_STRING_KINDS = "USO"
_AUTOTUNE = -1  # tf.data.AUTOTUNE, without importing tensorflow here


def features_spec(dataset):
    """The spec of the features of a dataset of `x` or `(x, y[, w])` elements."""
    spec = dataset.element_spec
    return spec[0] if isinstance(spec, tuple) else spec


def spec_is_string(spec):
    dtype = getattr(spec, "dtype", None)
    return dtype is not None and keras.backend.standardize_dtype(dtype) == "string"


def is_string_tensor(x):
    """True for string tensors (TF) and numpy arrays of str/bytes/objects."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return False
    if isinstance(dtype, np.dtype):
        return dtype.kind in _STRING_KINDS
    try:
        return keras.backend.standardize_dtype(dtype) == "string"
    except ValueError:
        return False


def as_array(x, argument):
    """`x` as a non-empty numpy array, or a TypeError/ValueError naming `argument`."""
    if isinstance(x, str):
        raise UserTypeError(
            f"`{argument}` must be a list or array of strings, not one string. "
            f"Received: {argument}={x!r}"
        )
    try:
        arr = np.asarray(keras.ops.convert_to_numpy(x) if keras.ops.is_tensor(x) else x)
    except (TypeError, ValueError) as err:
        raise UserTypeError(
            f"`{argument}` cannot be read as an array. Received: {type(x).__name__} ({err})"
        ) from None
    if arr.ndim == 0 or len(arr) == 0:
        raise UserValueError(f"`{argument}` is empty. Received: {argument} with shape {arr.shape}")
    return arr


def check_texts(arr, argument):
    """Raises unless `arr` is a 1-D array of non-blank strings."""
    if arr.dtype.kind not in _STRING_KINDS:
        raise UserTypeError(
            f"`{argument}` must hold strings (raw text). "
            f"Received: {argument} with dtype {arr.dtype}"
        )
    if arr.ndim != 1:
        raise UserValueError(
            f"`{argument}` must be a 1-D list of strings. "
            f"Received: {argument} with shape {arr.shape}"
        )
    for i, text in enumerate(arr):
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        if not isinstance(text, str):
            raise UserTypeError(
                f"`{argument}` must hold strings. Received: {argument}[{i}]={text!r}"
            )
        if not text.strip():
            raise UserValueError(
                f"`{argument}` holds an empty string: a text model needs at least one "
                f"word per example. Received: {argument}[{i}]={str(text)!r}"
            )


def map_features(dataset, fn):
    """`dataset` with `fn` applied to the features of each `x` or `(x, ...)` element."""
    if isinstance(dataset.element_spec, tuple):
        mapped = dataset.map(lambda x, *rest: (fn(x),) + tuple(rest), num_parallel_calls=_AUTOTUNE)
    else:
        mapped = dataset.map(fn, num_parallel_calls=_AUTOTUNE)
    return mapped.prefetch(_AUTOTUNE)
