"""Keras int8 quantization of zoo models: `zoo.quantize(model, "int8")`.

keras's `Model.quantize` replaces the float kernels of Dense, EinsumDense and
Embedding layers by int8 ones with a float scale per output channel, and
quantizes their inputs per row on the fly (dynamic quantization): no
calibration data. Every other layer stays float, convolutions included; a
runtime's post-training quantization covers those (`scripts/export.py
--quantize int8`, `zoo.jobs.quantize`).

A zoo model records its quantization in its config (`"quantization": "int8"`),
so a `.keras` file of a quantized zoo model loads as the same int8 model: keras
rebuilds subclassed models from their config, and would otherwise build float
layers that refuse the int8 variables.
"""

import contextlib
import warnings

import keras

from zoo import compat
from zoo.errors import UserTypeError, UserValueError

#: what `zoo.quantize` takes: keras's modes that need no calibration data
MODES = ("int8", "int4")
#: the layer types keras's `quantize` rewrites (keras 3.15)
QUANTIZABLE = (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding)


def check_mode(mode):
    """Raises a one-line `ValueError` for a mode `zoo.quantize` does not take."""
    if mode not in MODES:
        raise UserValueError(f"Unknown quantization mode: use one of {MODES}. "
                             f"Received: mode={mode!r}")
    return mode


def is_quantizable(layer):
    """True for a layer keras's `quantize` rewrites (Dense, EinsumDense, Embedding): those
    types exactly, since keras refuses their subclasses (a subclass's own `call` would
    not read int8 kernels), e.g. Swin's `QKVDense`, which stays float."""
    return type(layer) in QUANTIZABLE


def _leaves(model):
    return [layer for layer in compat.nested_layers(model)
            if layer is not model and len(compat.nested_layers(layer)) == 1]


def quantizable_layers(model):
    """The layers of `model` (at any depth) that `quantize` turns into int8."""
    return [layer for layer in _leaves(model) if is_quantizable(layer)]


def layer_types(model):
    """Sorted type names of the layers (at any depth) that hold no other layer."""
    return sorted({type(layer).__name__ for layer in _leaves(model)})


def float_layer_types(model):
    """Sorted type names of the layers with weights that stay float (Conv2D, LSTMCell...)."""
    return sorted({type(layer).__name__ for layer in _leaves(model)
                   if layer.weights and not is_quantizable(layer)})


def quantize(model, mode="int8"):
    """Quantizes the Dense, EinsumDense and Embedding layers of a built model, in place.

    keras's own `model.quantize(mode)` restricted to the layers it can
    quantize (it would try every layer, and fail on an unbuilt lookup table of
    a text model): int8 kernels with a per-channel scale, inputs quantized
    per row at run time. Convolutions, recurrent cells and normalization stay
    float (`float_layer_types(model)` names them). A zoo model records the
    mode in its config, so its `.keras` file reloads as the same int8 model.

    Args:
        model: a built keras model (a zoo model after `zoo.create(...,
            weights=...)`, or after training).
        mode: "int8" (or "int4": 4-bit kernels, same layers).

    Returns:
        The model itself, quantized.

    Raises:
        ValueError: an unknown mode, an unbuilt model, or a model with no
            quantizable layer (the message names its layer types).

    Example:

    ```python
    model = zoo.create("mlp", weights="fashion_mnist")
    zoo.quantize(model, "int8")       # 5 Dense layers -> int8 kernels
    model.compile()
    model.evaluate(test)              # the zoo's step, int8 matmuls
    model.save("mlp.int8.keras")      # reloads as the int8 model
    ```
    """
    check_mode(mode)
    if not isinstance(model, keras.Model):
        raise UserTypeError(f"`model` must be a keras Model. "
                            f"Received: model={type(model).__name__}")
    if not model.built:
        raise UserValueError(f"Build the model before quantizing it (call it once or `build`). "
                             f"Received: model={model.name!r}, built=False")
    if not quantizable_layers(model):
        types = float_layer_types(model) or ["none"]
        raise UserValueError(
            f"Nothing to quantize: keras quantizes Dense, EinsumDense and Embedding layers, and "
            f"{type(model).__name__} {model.name!r} has none (its layers with weights: "
            f"{', '.join(types)}); "
            f"quantize its convolutions with a runtime: scripts/export.py --quantize int8. "
            f"Received: model={model.name!r}"
        )
    with quiet():
        model.quantize(mode, filters=is_quantizable)
    return model


@contextlib.contextmanager
def quiet():
    """keras warns once per layer type without a `quantize` method: the filter already
    leaves them out, and `float_layer_types` names them."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method.*")
        yield
