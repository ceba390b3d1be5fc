"""Checks on what reaches `fit`/`evaluate`/`predict`, raised before any work starts.

Every input path is checked: numpy arrays (all of it, one vectorised pass),
`tf.data` datasets and Python generators (the first batch, on the host, before
any update; every batch with `model.data_checks = "every_batch"`, an assertion
in the pipeline that costs more than 2 % of a small model's step, see
docs/benchmarks.md) and `keras.utils.PyDataset` (the first batch). What is checked: the input shape,
NaN/inf in the inputs, the label dtype and range, and the value range the
model or its weights expect (`model.input_range`). A failure is a ValueError
or TypeError naming the argument and the first bad index.
"""

import dataclasses
import re

import numpy as np

from zoo.errors import UserTypeError, UserValueError
from zoo.utils.data import is_dataset

_NUMERIC_KINDS = "biuf"
_STRING_KINDS = "USO"
#: what `model.data_checks` may be: how much of a tf.data dataset or generator is checked
DATA_CHECKS = ("every_batch", "first_batch")
# An assertion inside a tf.data pipeline surfaces as TensorFlow's own error type,
# wrapped in its text; these markers let `fit` give the message back alone.
_START, _END = "<zoo-input-check>", "</zoo-input-check>"
# TensorFlow's sparse cross-entropy kernel on a label out of range (CPU)
_TF_LABEL = re.compile(r"Received a label value of (-?\d+) which is outside the valid range "
                       r"of \[0, (\d+)\)")


@dataclasses.dataclass(frozen=True)
class InputRange:
    """The values inputs must lie in, and who expects them (named in the error).

    Example: `InputRange(0.0, 1.0, "the weights 'mlp.fashion_mnist'")`.
    """

    low: float
    high: float
    source: str

    def __post_init__(self):
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low < self.high):
            raise UserValueError(
                "`InputRange` needs finite low < high. "
                f"Received: low={self.low!r}, high={self.high!r}"
            )

    def admits(self, low, high):
        tolerance = 1e-3 * (self.high - self.low)
        return low >= self.low - tolerance and high <= self.high + tolerance


# ---------------------------------------------------------------------- arguments
def check_loop_arguments(kwargs):
    """batch_size / epochs / steps of `fit`, `evaluate` or `predict`, as given."""
    for name in ("batch_size", "validation_batch_size", "steps_per_epoch", "validation_steps",
                 "steps"):
        value = kwargs.get(name)
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, (int, np.integer)) or value <= 0):
            raise UserValueError(f"`{name}` must be None or an int > 0. Received: {name}={value!r}")
    if "epochs" in kwargs:
        epochs = kwargs["epochs"]
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs <= 0:
            raise UserValueError(f"`epochs` must be an int > 0. Received: epochs={epochs!r}")


def check_data_ends(x, steps, argument="x", steps_name="steps_per_epoch"):
    """Refuses a `tf.data` dataset that never ends (`repeat()`) without `steps`: keras would
    wait in its first epoch forever. A Python generator cannot tell whether it ends; keras
    runs one to its end, so an endless one needs `steps` too (not checked)."""
    if steps is not None or not is_dataset(x):
        return
    import tensorflow as tf

    if int(x.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise UserValueError(
            f"`{argument}` is a dataset that never ends (e.g. `.repeat()`), so an epoch would "
            f"never end: pass `{steps_name}`, or repeat it a finite number of times. "
            f"Received: {steps_name}=None"
        )


# ---------------------------------------------------------------------- entry points
def prepare_data(model, x, y=None, argument="x", labels=True):
    """Checks `x`/`y` for `model`; returns `x`, wrapped where later batches are checked too.

    `labels=False` (predict) checks the inputs only.
    """
    if x is None:
        return x
    if is_dataset(x):
        return check_dataset(model, x, argument, labels=labels)
    if _is_generator(x):
        return _checked_generator(model, x, argument, labels)
    if _is_py_dataset(x):
        if len(x):
            _check_batch(model, x[0], argument, "batch 1", labels)
        return x
    if isinstance(x, (dict, list)) or not hasattr(x, "__len__") and not hasattr(x, "shape"):
        return x  # multi-input data: left to keras
    arr = _as_array(x, argument)
    _check_features(model, arr, argument)
    if y is not None and labels:
        y_arr = _as_array(y, "y")
        if y_arr.dtype.kind not in _NUMERIC_KINDS:
            raise UserTypeError(f"`y` must hold numbers. Received: y with dtype {y_arr.dtype}")
        if len(y_arr) != len(arr):
            raise UserValueError(
                f"`{argument}` and `y` must have the same number of examples. "
                f"Received: {len(arr)} and {len(y_arr)}"
            )
        check_labels(model, y_arr)
    return x


def check_training_data(model, x, y=None, argument="x"):
    """Raises ValueError/TypeError naming the argument if `x`/`y` cannot train `model`."""
    prepare_data(model, x, y, argument)


def prepare_validation_data(model, validation_data):
    if is_dataset(validation_data):
        return check_dataset(model, validation_data, "validation_data")
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        x, y = validation_data[0], validation_data[1]
        prepare_data(model, x, y, argument="validation_data")
        return validation_data
    raise UserValueError(
        "`validation_data` must be a tf.data.Dataset or a tuple (x, y[, sample_weight]). "
        f"Received: {type(validation_data).__name__}"
    )


def check_validation_data(model, validation_data):
    prepare_validation_data(model, validation_data)


def input_check_message(error):
    """The zoo's message for an error raised by a pipeline check (or by TensorFlow's loss
    on a label out of range), else None."""
    text = str(error)
    start = text.find(_START)
    end = text.find(_END, start + 1)
    if start >= 0 and end >= 0:
        return text[start + len(_START):end]
    label = _TF_LABEL.search(text)
    if label:
        return (f"`y` labels must lie in [0, {label.group(2)}). Received: label "
                f"{label.group(1)} in a batch after the first, found by TensorFlow's loss "
                "(model.data_checks = 'every_batch' checks every batch before its update)")
    return None


# ---------------------------------------------------------------------- tf.data
def check_dataset(model, dataset, argument, labels=True):
    """Checks the dataset's spec and its first batch; returns it with every batch checked
    (when `model.data_checks` is "every_batch")."""
    import tensorflow as tf

    cardinality = int(dataset.cardinality())
    if cardinality == 0:
        raise UserValueError(f"`{argument}` is an empty dataset. Received: cardinality 0")
    spec = dataset.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    if isinstance(x_spec, tf.TensorSpec):
        if x_spec.dtype == tf.string:
            if not model.accepts_strings:
                raise UserTypeError(
                    f"`{argument}` yields strings, but {type(model).__name__} takes numbers. "
                    f"Received: dtype {x_spec.dtype.name}"
                )
        else:
            _check_shape(model, tuple(x_spec.shape), argument)
    try:
        first = next(iter(dataset.take(1)))
    except StopIteration:
        raise UserValueError(f"`{argument}` is an empty dataset. Received: no batch") from None
    _check_batch(model, first, argument, "batch 1", labels)
    if _every_batch(model):
        return _with_batch_checks(model, dataset, argument, labels)
    return dataset


def _every_batch(model):
    mode = getattr(model, "data_checks", "first_batch")
    if mode not in DATA_CHECKS:
        raise UserValueError(f"`data_checks` must be one of {DATA_CHECKS}. "
                             f"Received: data_checks={mode!r}")
    return mode == "every_batch"


def _with_batch_checks(model, dataset, argument, labels):
    """`dataset` with an assertion per batch: NaN/inf, the input range, the labels."""
    import tensorflow as tf

    spec = dataset.element_spec
    parts = spec if isinstance(spec, tuple) else (spec,)
    x_spec = parts[0]
    y_spec = parts[1] if len(parts) > 1 and labels else None
    input_range = getattr(model, "input_range", None)
    numeric = isinstance(x_spec, tf.TensorSpec) and (x_spec.dtype.is_floating
                                                     or x_spec.dtype.is_integer)
    check_finite = numeric and x_spec.dtype.is_floating
    check_range = numeric and input_range is not None
    num_classes = model.num_output_classes()
    check_y = (
        num_classes is not None
        and isinstance(y_spec, tf.TensorSpec)
        and (y_spec.dtype.is_floating or y_spec.dtype.is_integer)
        and (y_spec.shape.rank == 1 or (y_spec.shape.rank == 2 and y_spec.shape[-1] == 1))
    )
    if not (check_finite or check_range or check_y):
        return dataset

    def message(text, *values):
        return tf.strings.format(_START + text + _END, values, summarize=-1)

    def first_index(mask):
        return tf.where(mask)[0]

    def assert_batch(index, element):
        parts_ = element if isinstance(element, tuple) else (element,)
        x = parts_[0]
        number = index + 1  # batches counted from 1, as in the other messages
        checks = []
        if check_finite:
            finite = tf.math.is_finite(x)
            ok = tf.reduce_all(finite)
            text = tf.cond(ok, lambda: tf.constant(""), lambda: message(
                f"`{argument}` holds NaN or inf in batch {{}}, at index {{}} of that batch; "
                "one such value makes every weight it reaches NaN. Remove or replace those "
                f"examples. Received: {argument} batch {{}} with non-finite values",
                number, first_index(tf.logical_not(finite)), number))
            checks.append(tf.debugging.Assert(ok, [text]))
        if check_range:
            xf = tf.cast(x, tf.float32)
            low, high = tf.reduce_min(xf), tf.reduce_max(xf)
            tol = 1e-3 * (input_range.high - input_range.low)
            ok = tf.logical_and(low >= input_range.low - tol, high <= input_range.high + tol)
            text = tf.cond(ok, lambda: tf.constant(""), lambda: message(
                f"`{argument}` batch {{}} holds values in [{{}}, {{}}], but {input_range.source} "
                f"expect inputs in [{input_range.low:g}, {input_range.high:g}]. "
                f"Received: {argument} batch {{}} outside that range",
                number, low, high, number))
            checks.append(tf.debugging.Assert(ok, [text]))
        if check_y:
            y = tf.reshape(parts_[1], [-1])
            yf = tf.cast(y, tf.float64)
            good = tf.logical_and(tf.equal(yf, tf.floor(yf)),
                                  tf.logical_and(yf >= 0, yf < num_classes))
            ok = tf.reduce_all(good)

            def label_message():
                bad = first_index(tf.logical_not(good))[0]
                return message(
                    f"`y` labels of `{argument}` must be integer class ids in [0, {num_classes})."
                    " Received: label {} at index {} of batch {}",
                    tf.gather(y, bad), bad, number)

            text = tf.cond(ok, lambda: tf.constant(""), label_message)
            checks.append(tf.debugging.Assert(ok, [text]))
        with tf.control_dependencies(checks):
            return tf.nest.map_structure(tf.identity, element)

    checked = dataset.enumerate().map(assert_batch, num_parallel_calls=tf.data.AUTOTUNE,
                                      deterministic=True)
    return checked.prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------------- generators
def _is_generator(x):
    return hasattr(x, "__next__") and hasattr(x, "__iter__") and not hasattr(x, "shape")


def _is_py_dataset(x):
    import keras

    return isinstance(x, keras.utils.PyDataset)


def _checked_generator(model, generator, argument, labels):
    try:
        first = next(generator)
    except StopIteration:
        raise UserValueError(f"`{argument}` is an empty generator. Received: no batch") from None
    _check_batch(model, first, argument, "batch 1", labels)
    every = _every_batch(model)

    def checked():  # keras takes generators, not other iterators
        yield first
        for i, batch in enumerate(generator, start=2):
            if every:
                _check_batch(model, batch, argument, f"batch {i}", labels)
            yield batch

    return checked()


# ---------------------------------------------------------------------- one batch
def _check_batch(model, batch, argument, where, labels=True):
    """Host-side checks of one batch `(x[, y[, sample_weight]])` or `x`."""
    if isinstance(batch, (tuple, list)) and len(batch) in (1, 2, 3):
        x = batch[0]
        y = batch[1] if len(batch) > 1 else None
    else:
        x, y = batch, None
    if isinstance(x, (dict, list, tuple)):
        return  # multi-input
    arr = np.asarray(x)
    if arr.dtype.kind in _STRING_KINDS:
        return
    _check_values(model, arr, argument, f" in {where}")
    if y is None or not labels or isinstance(y, (dict, list, tuple)):
        return
    y_arr = np.asarray(y)
    if y_arr.dtype.kind not in _NUMERIC_KINDS:
        raise UserTypeError(
            f"`y` labels of `{argument}` must hold numbers. "
            f"Received: dtype {y_arr.dtype} in {where}"
        )
    if y_arr.ndim:
        check_labels(model, y_arr, where=f" in {where} of `{argument}`")


def _as_array(x, argument):
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:
        raise UserTypeError(
            f"`{argument}` cannot be read as an array. Received: {type(x).__name__} ({err})"
        ) from None
    return arr


def _check_features(model, arr, argument):
    if arr.size == 0 or len(arr) == 0:
        raise UserValueError(f"`{argument}` is empty. Received: shape {arr.shape}")
    kinds = _NUMERIC_KINDS + (_STRING_KINDS if model.accepts_strings else "")
    if arr.dtype.kind not in kinds:
        raise UserTypeError(
            f"`{argument}` must hold numbers"
            + (" or strings" if model.accepts_strings else "")
            + f". Received: {argument} with dtype {arr.dtype}"
        )
    if arr.dtype.kind in _STRING_KINDS:
        return
    _check_shape(model, arr.shape, argument)
    _check_values(model, arr, argument)


def _check_values(model, arr, argument, where=""):
    """NaN/inf and the expected value range, in one pass for each bound."""
    input_range = getattr(model, "input_range", None)
    if arr.size == 0 or arr.dtype.kind not in "iuf" or (
            arr.dtype.kind != "f" and input_range is None):
        return
    low, high = np.min(arr), np.max(arr)  # NaN propagates through both
    if arr.dtype.kind == "f" and not (np.isfinite(low) and np.isfinite(high)):
        bad = np.argwhere(~np.isfinite(arr))
        index = ", ".join(str(int(i)) for i in bad[0])
        value = arr[tuple(bad[0])]
        raise UserValueError(
            f"`{argument}` holds {value} at {argument}[{index}]{where}; one such value makes "
            "every weight it reaches NaN. Remove or replace those examples. "
            f"Received: {argument} with {len(bad)} non-finite values"
        )
    if input_range is not None and not input_range.admits(float(low), float(high)):
        hint = " (uint8 pixels: divide by 255)" if arr.dtype == np.uint8 else ""
        raise UserValueError(
            f"`{argument}` holds values in [{float(low):g}, {float(high):g}]{where}, but "
            f"{input_range.source} expect inputs in [{input_range.low:g}, "
            f"{input_range.high:g}]{hint}. Received: {argument} with dtype {arr.dtype}"
        )


def _check_shape(model, batch_shape, argument):
    expected = model.expected_input_shape()
    if expected is None:
        return
    got = tuple(batch_shape[1:])
    ok = len(got) == len(expected) and all(
        e is None or g is None or int(e) == int(g) for e, g in zip(expected, got)
    )
    if not ok:
        raise UserValueError(
            f"`{argument}` does not match the model's input shape {expected} "
            f"(rank {len(expected) + 1} with the batch). Received: {argument} with "
            f"shape {tuple(batch_shape)}"
        )


def check_labels(model, labels, where=""):
    num_classes = model.num_output_classes()
    if num_classes is None:
        return
    flat = labels.reshape(len(labels), -1) if labels.ndim > 1 else labels[:, None]
    if flat.shape[1] != 1:
        return  # one-hot or multi-output targets: left to the loss
    flat = flat[:, 0]
    if labels.dtype.kind == "f":
        fractional = np.mod(flat, 1) != 0  # NaN counts too
        if fractional.any():
            i = int(np.argmax(fractional))
            raise UserValueError(
                f"`y` must hold integer class ids. Received: non-integer label "
                f"{flat[i].item()!r} at index {i}{where}"
            )
    lo, hi = flat.min(), flat.max()
    if lo < 0 or hi >= num_classes:
        bad = lo if lo < 0 else hi
        i = int(np.argmax(flat == bad))
        raise UserValueError(
            f"`y` labels must lie in [0, {num_classes}). Received: label {bad.item()!r} "
            f"at index {i}{where}"
        )
