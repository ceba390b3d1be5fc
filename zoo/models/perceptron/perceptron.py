"""`Perceptron`: the single-output perceptron."""

import keras
from keras import layers

from zoo.models.zoo_classifier import ZooClassifier
from zoo.utils.checks import check_input_shape


class Perceptron(ZooClassifier):
    """One Dense unit with a sigmoid: a linear binary classifier (Rosenblatt, 1958).

    Trained with binary cross-entropy; labels are 0 or 1. At `input_shape=(2,)`
    it has 3 parameters (two weights, one bias).

    Args:
        input_shape: per-example shape; flattened first.
        **kwargs: `ZooModel` arguments.

    Example:

    ```python
    model = zoo.create("perceptron", input_shape=(2,))
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.fit(points, labels)
    ```
    """

    def __init__(self, *, input_shape=(2,), **kwargs):
        input_shape = check_input_shape(input_shape, 1, 4)
        super().__init__(input_shape=input_shape, num_classes=2, **kwargs)
        self.flatten = layers.Flatten(name="flatten")
        self.unit = layers.Dense(1, activation="sigmoid", name="unit")
        self.build_now()

    def default_loss(self):
        return keras.losses.BinaryCrossentropy()

    def default_metrics(self):
        return [keras.metrics.BinaryAccuracy(name="accuracy")]

    def call(self, inputs, training=False):
        return self.unit(self.flatten(inputs))

    def get_config(self):
        return {**super().get_config(), "input_shape": self._zoo_input_shape}
