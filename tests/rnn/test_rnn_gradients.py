"""Exploding and vanishing gradients through time, measured on every backend.

Gradients with respect to the embedded input sequence come from
`zoo.training.input_gradient` (d sum(features) / d inputs), so the same test
runs on TensorFlow and JAX.
"""

import keras
import numpy as np
import pytest
from keras import ops

import zoo
from zoo.training import input_gradient


def _first_and_last_step_gradient(model, embedded):
    grad = ops.convert_to_numpy(input_gradient(lambda e: model.encode(e), embedded))
    return np.linalg.norm(grad[:, 0]), np.linalg.norm(grad[:, -1])


def _exploding_simple_rnn(length, gradient_clip_norm):
    """A SimpleRNN whose state starts at 0 (zero embeddings) with recurrent kernel 1.5 I.

    In tanh's linear regime each step multiplies the backpropagated gradient
    by 1.5, so the gradient of the first input grows like 1.5 ** length.
    """
    model = zoo.create(
        "simple_rnn", text_input=False, vocabulary_size=10, embedding_dim=4, units=8,
        sequence_length=length, gradient_clip_norm=gradient_clip_norm,
    )
    model.recurrent[0].cell.recurrent_kernel.assign(1.5 * np.eye(8, dtype="float32"))
    model.embedding.embeddings.assign(np.zeros((10, 4), "float32"))
    return model


def _weights(model):
    return np.concatenate([ops.convert_to_numpy(w).ravel() for w in model.trainable_weights])


@pytest.mark.jax
def test_simple_rnn_gradient_explodes_and_the_clipped_step_stays_bounded():
    norms = {}
    for length in (10, 30, 60):
        model = _exploding_simple_rnn(length, gradient_clip_norm=None)
        norms[length], _ = _first_and_last_step_gradient(model, np.zeros((2, length, 4), "float32"))
    # geometric growth: ~1.5x per step (124 -> 4e5 -> 8e10 on TF)
    assert norms[30] / norms[10] > 1e3 and norms[60] / norms[30] > 1e4, norms

    ids = np.full((4, 60), 3, "int32")
    labels = np.ones(4, "int32")  # identical examples: mixed labels would cancel
    lr = 0.01
    steps = {}
    for clip in (None, 1.0):
        model = _exploding_simple_rnn(60, gradient_clip_norm=clip)
        model.compile(optimizer=keras.optimizers.SGD(lr))
        before = _weights(model)
        model.train_on_batch(ids, labels)
        after = _weights(model)
        assert np.all(np.isfinite(after)), clip
        steps[clip] = np.linalg.norm(after - before)
        if clip is not None:
            assert np.isfinite(model.test_on_batch(ids, labels, return_dict=True)["loss"])
    # plain SGD moves the weights by lr * |gradient|: unclipped, the whole
    # exploded gradient; clipped, at most lr * clip norm
    assert steps[None] > 1e6, steps
    assert 0 < steps[1.0] <= lr * 1.0 * (1 + 1e-4), steps


@pytest.mark.jax
def test_gated_cells_carry_the_gradient_to_the_first_step():
    """Over 100 steps of unit-scale inputs, a SimpleRNN's gradient of the first input
    vanishes (each step multiplies it by tanh' W, tanh' < 1); an LSTM whose forget
    gate is open (bias 5) or a GRU whose update gate keeps the state (bias 5) passes
    it through the additive memory path. At keras's default initialisation all three
    vanish: the gates must be open, as training opens them for long dependencies.
    """
    x = np.random.default_rng(0).normal(size=(4, 100, 16)).astype("float32")
    ratios = {}
    for cell in ("simple_rnn", "lstm", "gru"):
        model = zoo.create(cell, text_input=False, vocabulary_size=10, embedding_dim=16, units=32)
        first, last = _first_and_last_step_gradient(model, x)
        assert first / last < 1e-6, (cell, first / last)  # default init: vanished
        if cell != "simple_rnn":
            bias = model.recurrent[0].cell.bias
            value = ops.convert_to_numpy(bias).copy()
            if cell == "lstm":
                value[32:64] = 5.0  # gate order i, f, c, o
            else:
                value[0, :32] = 5.0  # gate order z, r, h; h = z * h_prev + (1 - z) * candidate
            bias.assign(value)
            first, last = _first_and_last_step_gradient(model, x)
        ratios[cell] = first / last
    assert ratios["simple_rnn"] < 1e-10, ratios
    assert ratios["lstm"] > 0.05 and ratios["gru"] > 0.05, ratios
