"""`zoo.training.input_gradient` inside evaluation steps (torch runs them under no_grad)."""

import numpy as np
import pytest

import keras
from zoo.training import Player, PlayerOptimizers, ZooModel, input_gradient


class SquareNormModel(ZooModel):
    """One player whose loss is the mean squared norm of d(w * sum x^2)/dx = 2 w x."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = self.add_weight(shape=(), initializer="ones", name="w")

    def call(self, x, training=False):
        return self.w * keras.ops.sum(keras.ops.square(x), axis=-1)

    @property
    def metrics(self):
        return []  # the player's loss only (as the GAN families do)

    def players(self):
        opt = self.optimizer if isinstance(self.optimizer, PlayerOptimizers) else None

        def loss(data):
            x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
            grad = input_gradient(lambda t: self(t, training=True), x)
            return keras.ops.mean(keras.ops.sum(keras.ops.square(grad), axis=-1))

        return [Player("p", loss, [self.w], opt["p"] if opt else None)]


@pytest.mark.jax
@pytest.mark.torch
def test_generative_input_gradient_in_evaluate_and_fit():
    x = np.array([[1.0, 2.0], [0.0, 3.0]], "float32")
    model = SquareNormModel()
    model.compile(optimizer=PlayerOptimizers({"p": keras.optimizers.SGD(0.01)}))
    # ||2 w x||^2 averaged: 4 w^2 * mean(||x||^2) = 4 * 7 = 28 at w = 1
    results = model.evaluate(x, batch_size=2, return_dict=True, verbose=0)
    assert results["p_loss"] == pytest.approx(28.0)
    model.fit(x, batch_size=2, epochs=1, verbose=0)
    # d/dw 4 w^2 * 7 = 56 at w = 1: one SGD step of 0.01
    assert float(keras.ops.convert_to_numpy(model.w)) == pytest.approx(1 - 0.56, rel=1e-5)
