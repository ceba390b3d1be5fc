"""Shared pieces of the zoo's families: the classifier base and argument checks."""

import keras

from zoo.training import ZooModel


def check_input_shape(input_shape, min_rank=1, max_rank=None, argument="input_shape"):
    """Returns `input_shape` as a tuple of ints, or raises naming the value."""
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"`{argument}` must be a tuple of positive ints. Received: {argument}={input_shape!r}"
        ) from None
    max_rank = max_rank or min_rank
    if not (min_rank <= len(shape) <= max_rank) or any(d <= 0 for d in shape):
        rank = f"{min_rank}" if min_rank == max_rank else f"{min_rank} to {max_rank}"
        raise ValueError(
            f"`{argument}` must have {rank} positive dimensions (no batch). "
            f"Received: {argument}={input_shape!r}"
        )
    return shape


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be an int > 0. Received: {name}={value!r}")
    return value


def check_widths(name, widths, allow_empty=True):
    try:
        widths = tuple(widths)
    except TypeError:
        raise ValueError(
            f"`{name}` must be a sequence of ints > 0. Received: {name}={widths!r}"
        ) from None
    if not widths and not allow_empty:
        raise ValueError(f"`{name}` must not be empty. Received: {name}={widths!r}")
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, int) or w <= 0:
            raise ValueError(f"`{name}` must hold ints > 0. Received: {name}={widths!r}")
    return widths


def check_rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value!r}")
    return float(value)


class ZooClassifier(ZooModel):
    """A ZooModel mapping inputs of `input_shape` to `num_classes` logits.

    Defaults for `compile()`: sparse categorical cross-entropy from logits, accuracy.
    """

    def __init__(self, input_shape, num_classes, **kwargs):
        super().__init__(**kwargs)
        self._zoo_input_shape = input_shape
        self._zoo_num_classes = check_positive_int("num_classes", num_classes)

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def default_metrics(self):
        return ["accuracy"]

    def build(self, input_shape):
        # Shape inference on KerasTensors creates every sublayer's weights, computing nothing.
        self.call(keras.KerasTensor(input_shape))

    def build_now(self):
        """Creates the weights from `input_shape`, so count_params() works at once.

        Through `build` (keras's build wrapper: name scope, build config), never
        `self(...)`: calling the model records an inbound node, and keras's
        functional deserialization expects none on a layer the graph has not
        called yet, so a functional model wrapping a zoo model saved to
        `.keras` would not load again ("Graph disconnected").
        """
        self.build((None,) + tuple(self._zoo_input_shape))
