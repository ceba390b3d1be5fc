"""The zoo's BatchNormalization with the backend's fused kernel equals keras's path."""

import keras
import numpy as np
import pytest

from zoo.models.batch_normalization import BatchNormalization
from zoo.training import fused_batch_norm


def _bn(fused, scale=True):
    bn = BatchNormalization(fused=fused, momentum=0.9, epsilon=1e-5, scale=scale)
    bn.build((None, 5, 5, 6))
    if scale:
        bn.gamma.assign(np.linspace(0.5, 2.0, 6))
    bn.beta.assign(np.linspace(-1.0, 1.0, 6))
    return bn


@pytest.mark.parametrize("policy,atol", [("float32", 1e-5), ("mixed_bfloat16", 1e-2)])
@pytest.mark.parametrize("scale", [True, False])
def test_fused_training_step_equals_keras_path(policy, atol, scale):
    import tensorflow as tf

    assert fused_batch_norm is not None  # the TensorFlow pass has the fused kernel
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(2.0, 3.0, (8, 5, 5, 6)), tf.float32)
    weights = tf.constant(rng.normal(size=(8, 5, 5, 6)), tf.float32)  # the upstream gradient
    results = []
    with _policy(policy):
        for fused in (True, False):
            bn = _bn(fused, scale)
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = bn(x, training=True)
                loss = tf.reduce_sum(tf.cast(y, tf.float32) * weights)
            grads = tape.gradient(loss, [x, *bn.trainable_variables])
            results.append([tf.cast(y, tf.float32), *grads, bn.moving_mean, bn.moving_variance,
                            tf.cast(bn(x, training=False), tf.float32)])
    for fused, plain in zip(*results):
        np.testing.assert_allclose(np.asarray(fused), np.asarray(plain), atol=atol, rtol=1e-4)


def test_inference_and_unfused_cases_keep_keras_path():
    bn = _bn(True)
    assert not bn._fusable(np.zeros((2, 5, 5, 6), "float32"), False, None)  # inference
    assert not bn._fusable(np.zeros((2, 5, 6), "float32"), True, None)  # not 4-D
    assert bn._fusable(np.zeros((2, 5, 5, 6), "float32"), True, None)
    assert not _bn(False)._fusable(np.zeros((2, 5, 5, 6), "float32"), True, None)
    assert BatchNormalization.from_config(bn.get_config()).fused


class _policy:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.saved = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.name)

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self.saved)
