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
        self._zoo_num_classes = check_positive_int("num_classes", num_classes)

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def default_metrics(self):
        return ["accuracy"]

    def build_now(self):
        """Creates the weights from `input_shape`, so count_params() works at once."""
        # A symbolic call builds every sublayer without computing anything.
        self(keras.KerasTensor((None,) + tuple(self._zoo_input_shape)))
