"""The shared residual-branch layers: `StochasticDepth` (drop path) and `LayerScale`.

Stochastic depth is the identity in inference, drops whole examples in training with
the right rate and rescaling, and draws the same masks again from the same seed;
layer scale multiplies the channels by its vector; both round-trip through their configs.
"""

import keras
import numpy as np
import pytest

from zoo.models.layer_scale import LayerScale
from zoo.models.stochastic_depth import StochasticDepth


def test_stochastic_depth_is_the_identity_in_inference_and_at_rate_zero():
    x = np.random.default_rng(0).normal(size=(16, 4, 4, 3)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(StochasticDepth(0.5)(x)), x)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(StochasticDepth(0.0)(x, training=True)), x)


def test_stochastic_depth_drops_whole_examples_and_rescales_the_kept_ones():
    x = np.ones((4000, 2, 2, 3), "float32")
    y = keras.ops.convert_to_numpy(StochasticDepth(0.25, seed=1)(x, training=True))
    per_example = y.reshape(len(y), -1)
    # each example is all zeros or all 1 / (1 - rate)
    assert set(np.unique(per_example.min(axis=1))) == {0.0, np.float32(1 / 0.75)}
    assert np.all(per_example.min(axis=1) == per_example.max(axis=1))
    dropped = np.mean(per_example[:, 0] == 0)
    assert abs(dropped - 0.25) < 0.03, dropped
    assert abs(y.mean() - 1.0) < 0.05  # the expected value is kept


def test_stochastic_depth_is_seeded():
    x = np.ones((64, 3), "float32")

    def draws(seed):
        layer = StochasticDepth(0.5, seed=seed)
        return [keras.ops.convert_to_numpy(layer(x, training=True)) for _ in range(2)]

    first, again, other = draws(7), draws(7), draws(8)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1])  # a new mask at each call
    assert not np.array_equal(first[0], other[0])


def test_layer_scale_multiplies_channels_and_starts_at_its_init_value():
    layer = LayerScale(1e-6)
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 5)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x * 1e-6, rtol=1e-6)
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(5,)]
    assert layer.trainable_weights[0].path.endswith("gamma")
    gamma = np.arange(5, dtype="float32")
    layer.gamma.assign(gamma)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x * gamma, rtol=1e-6)


def test_configs_round_trip():
    for layer in (StochasticDepth(0.2, seed=3), LayerScale(0.1)):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("build,match", [
    (lambda: StochasticDepth(1.0), "rate=1.0"),
    (lambda: StochasticDepth(-0.1), "rate=-0.1"),
    (lambda: StochasticDepth(0.1, seed=1.5), "seed=1.5"),
    (lambda: LayerScale(0), "init_value=0"),
])
def test_bad_arguments_raise(build, match):
    with pytest.raises(ValueError, match=match):
        build()
