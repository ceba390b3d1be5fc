"""`ZooClassifier`: the classifier base shared by the zoo's families."""

import keras

from zoo.training import ZooModel
from zoo.utils.checks import check_positive_int


class ZooClassifier(ZooModel):
    """A ZooModel mapping inputs of `input_shape` to `num_classes` logits.

    Defaults for `compile()`: sparse categorical cross-entropy from logits, accuracy.
    Pretrained weights load into another `num_classes` with a fresh head (the layer
    `logits`) and into another `input_shape` (where the weights' shapes still fit).

    Args:
        input_shape: per-example input shape (no batch axis).
        num_classes: number of output logits (None: no head).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`), and for a
            functional family `inputs` and `outputs`.
    """

    #: arguments that leave the function weights compute as it is (`zoo.weights`)
    function_preserving_arguments = ("input_shape", "num_classes", "dropout")
    #: arguments that change only the head: the other weights still fit (`zoo.weights`)
    head_arguments = ("num_classes",)

    def __init__(self, *, input_shape, num_classes, **kwargs):
        self._zoo_input_shape = input_shape
        # None: a model without a head (features out), e.g. a pretrained text encoder
        self._zoo_num_classes = check_positive_int("num_classes", num_classes, allow_none=True)
        super().__init__(**kwargs)

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def default_metrics(self):
        return ["accuracy"]

    def build(self, input_shape):
        # Subclassed families: shape inference on KerasTensors creates every
        # sublayer's weights, computing nothing. (Functional ones are built at init.)
        self.call(keras.KerasTensor(input_shape))

    def build_now(self):
        """Creates the weights of a subclassed family from `input_shape`, so count_params()
        works at once.

        Through `build` (keras's build wrapper: name scope, build config), never
        `self(...)`: calling the model records an inbound node, and keras's
        functional deserialization expects none on a layer the graph has not
        called yet, so a functional model wrapping a zoo model saved to
        `.keras` would not load again ("Graph disconnected").
        """
        self.build((None,) + tuple(self._zoo_input_shape))
