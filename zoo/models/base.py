"""The classifier base shared by the zoo's families."""

import keras

from zoo.training import ZooModel
from zoo.utils.checks import check_positive_int


class ZooClassifier(ZooModel):
    """A ZooModel mapping inputs of `input_shape` to `num_classes` logits.

    Defaults for `compile()`: sparse categorical cross-entropy from logits, accuracy.
    """

    def __init__(self, input_shape, num_classes, **kwargs):
        super().__init__(**kwargs)
        self._zoo_input_shape = input_shape
        # None: a model without a head (features out), e.g. a pretrained text encoder
        self._zoo_num_classes = check_positive_int("num_classes", num_classes, allow_none=True)

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
