"""`MLP`: the multilayer perceptron classifier."""

import keras
from keras import layers

from zoo.models.zoo_classifier import ZooClassifier
from zoo.utils.checks import check_input_shape, check_rate, check_widths


class MLP(ZooClassifier):
    """Fully connected classifier: flatten, Dense hidden layers, Dense logits.

    The default is the Fashion-MNIST network 784-256-128-64-32-10:
    244,522 parameters at `input_shape=(28, 28, 1)`, `num_classes=10`.

    Args:
        input_shape: per-example shape; flattened first.
        num_classes: number of output logits.
        hidden_units: widths of the hidden Dense layers.
        activation: activation of the hidden layers.
        dropout: dropout rate after each hidden layer (0: none).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("mlp", hidden_units=(512, 256))
    model.compile(optimizer="adam")
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(28, 28, 1),
        num_classes=10,
        hidden_units=(256, 128, 64, 32),
        activation="relu",
        dropout=0.0,
        **kwargs,
    ):
        input_shape = check_input_shape(input_shape, 1, 4)
        super().__init__(input_shape=input_shape, num_classes=num_classes, **kwargs)
        self.hidden_units = check_widths("hidden_units", hidden_units)
        self.activation = activation
        self.dropout = check_rate("dropout", dropout)
        keras.activations.get(activation)  # raises on an unknown name
        self.flatten = layers.Flatten(name="flatten")
        self.hidden = [
            layers.Dense(units, activation=activation, name=f"dense_{i}")
            for i, units in enumerate(self.hidden_units)
        ]
        self.dropouts = (
            [layers.Dropout(self.dropout, name=f"dropout_{i}") for i in range(len(self.hidden))]
            if self.dropout
            else []
        )
        self.logits = layers.Dense(num_classes, name="logits")
        self.build_now()

    def call(self, inputs, training=False):
        x = self.flatten(inputs)
        for i, dense in enumerate(self.hidden):
            x = dense(x)
            if self.dropouts:
                x = self.dropouts[i](x, training=training)
        return self.logits(x)

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self._zoo_input_shape,
            "num_classes": self._zoo_num_classes,
            "hidden_units": self.hidden_units,
            "activation": self.activation,
            "dropout": self.dropout,
        }
