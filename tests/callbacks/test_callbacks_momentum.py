"""Schedules change the update itself: one step's weights against the update by hand.

Run under TensorFlow, JAX and PyTorch (markers): three updates in ONE epoch,
so a value assigned from Python per batch (ignored by the traced step, or by
JAX's state threading until the epoch ends) would fail these checks.
"""

import numpy as np
import pytest

import keras
from keras import ops

import callbacks
from zoo import compat
import zoo

X = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0], [-1.5, 0.5, 1.0], [2.0, 1.0, 0.5]], "float32")
Y = np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")
W0 = np.array([[0.2], [-0.1], [0.3]], "float32")
LRS = [0.1, 0.05, 0.025]  # StepDecay(0.1, step_size=1, gamma=0.5, unit="step")
MOMENTA = [0.3, 0.5, 0.7]  # MomentumSchedule(0.3 + 0.2 * step); nominal 0.9 is never used


class Linear(zoo.ZooModel):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1, use_bias=False)
        self.dense.build((None, 3))
        self.dense.set_weights([W0])

    def call(self, inputs, training=False):
        return self.dense(inputs)


def _grad(w):
    # d/dw mean((Xw - y)^2) for keras's MSE (mean over the batch)
    return 2.0 / len(X) * X.T @ (X @ w - Y)


def sgd_by_hand(lrs, momenta):
    w, m = W0.astype("float64"), np.zeros_like(W0, "float64")
    for lr, mu in zip(lrs, momenta):
        m = mu * m - lr * _grad(w)
        w = w + m
    return w


def adam_by_hand(lrs, betas, beta_2=0.999, eps=1e-7):
    # keras Adam.update_step, with beta_1 the scheduled value of that update
    w = W0.astype("float64")
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, (lr, b1) in enumerate(zip(lrs, betas), start=1):
        g = _grad(w)
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - b1**t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - beta_2)
        w = w - m * alpha / (np.sqrt(v) + eps)
    return w


class StepLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.lr, self.momentum = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.lr.append(float(logs["lr"]))
        self.momentum.append(float(logs["momentum"]))


def _train(optimizer):
    model = Linear()
    model.compile(optimizer=optimizer, loss="mse")
    logs = StepLogs()
    scheduler = callbacks.Scheduler(
        callbacks.StepDecay(0.1, step_size=1, gamma=0.5, unit="step"),
        momentum=callbacks.MomentumSchedule(lambda step: 0.3 + 0.2 * ops.cast(step, "float32")),
    )
    # the same 4 rows three times: 3 updates in one epoch
    model.fit(
        np.concatenate([X] * 3),
        np.concatenate([Y] * 3),
        batch_size=4,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[scheduler, logs],
    )
    return model.dense.get_weights()[0], logs


@pytest.mark.jax
@pytest.mark.torch
def test_sgd_update_uses_scheduled_momentum_and_lr():
    got, logs = _train(keras.optimizers.SGD(learning_rate=1.0, momentum=0.9))
    expected = sgd_by_hand(LRS, MOMENTA)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # the check can fail: the nominal momentum or the first rate give other weights
    assert np.abs(sgd_by_hand(LRS, [0.9] * 3) - expected).max() > 1e-3
    assert np.abs(sgd_by_hand([0.1] * 3, MOMENTA) - expected).max() > 1e-3
    np.testing.assert_allclose(logs.lr, LRS, rtol=1e-6)
    np.testing.assert_allclose(logs.momentum, MOMENTA, rtol=1e-6)


@pytest.mark.jax
@pytest.mark.torch
def test_adam_update_uses_scheduled_beta_1():
    got, logs = _train(keras.optimizers.Adam(learning_rate=1.0, beta_1=0.9))
    expected = adam_by_hand(LRS, MOMENTA)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert np.abs(adam_by_hand(LRS, [0.9] * 3) - expected).max() > 1e-3
    np.testing.assert_allclose(logs.momentum, MOMENTA, rtol=1e-6)


@pytest.mark.jax
@pytest.mark.torch
def test_one_cycle_round_trips_through_keras_file(tmp_path):
    model = zoo.create("mlp", input_shape=(4,), num_classes=3, hidden_units=(8,))
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.9))
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = np.arange(32) % 3
    sched = callbacks.OneCycle(max_lr=0.1)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[callbacks.Scheduler(sched)])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    lr = compat.learning_rate_object(loaded.optimizer)
    assert isinstance(lr, callbacks.OneCycle) and lr.total_steps == 8
    assert isinstance(loaded.momentum_schedule, callbacks.OneCycleMomentum)
    assert int(loaded.optimizer.iterations) == 8
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    # training goes on from the restored position of both schedules
    logs = StepLogs()
    loaded.fit(x[:8], y[:8], batch_size=8, epochs=1, verbose=0, callbacks=[logs])
    np.testing.assert_allclose(logs.lr, [float(lr(8))], rtol=1e-6)
    np.testing.assert_allclose(logs.momentum, [float(lr.momentum_schedule()(8))], rtol=1e-6)


@pytest.mark.jax
def test_plain_keras_model_gets_lr_schedule_but_momentum_is_refused():
    model = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(1, use_bias=False)])
    model.layers[0].set_weights([W0])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0, momentum=0.9), loss="mse")
    sched = callbacks.StepDecay(0.1, step_size=1, gamma=0.5, unit="step")
    model.fit(
        np.concatenate([X] * 3),
        np.concatenate([Y] * 3),
        batch_size=4,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[callbacks.Scheduler(sched)],
    )
    np.testing.assert_allclose(
        model.layers[0].get_weights()[0], sgd_by_hand(LRS, [0.9] * 3), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(TypeError, match="needs a zoo.ZooModel.*Sequential"):
        model.fit(X, Y, verbose=0, callbacks=[callbacks.Scheduler(momentum=lambda s: 0.5)])


def test_momentum_schedule_needs_an_optimizer_with_momentum():
    model = Linear()
    model.compile(optimizer=keras.optimizers.Adagrad(0.1), loss="mse")
    with pytest.raises(ValueError, match="optimizer=Adagrad"):
        model.fit(X, Y, verbose=0, callbacks=[callbacks.Scheduler(momentum=lambda s: 0.5)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")  # momentum=0: no slots
    with pytest.raises(ValueError, match="momentum=0"):
        model.fit(
            X,
            Y,
            verbose=0,
            callbacks=[callbacks.Scheduler(callbacks.OneCycle(0.1, total_steps=10))],
        )
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    with pytest.raises(ValueError, match=r"momentum\(0\)=1.5"):
        model.fit(X, Y, verbose=0, callbacks=[callbacks.Scheduler(momentum=lambda s: 1.5)])


@pytest.mark.jax
def test_schedule_installed_after_a_traced_fit_takes_effect():
    model = Linear()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), loss="mse")
    model.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)  # traced with the lr variable
    n_vars = len(model.optimizer.variables)
    logs = StepLogs()
    sched = callbacks.StepDecay(0.1, step_size=1, gamma=0.5, unit="step")
    model.fit(
        np.concatenate([X] * 3),
        np.concatenate([Y] * 3),
        batch_size=4,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[callbacks.Scheduler(sched), logs],
    )
    # iterations 1, 2, 3 of the schedule; the replaced learning-rate variable is untracked
    np.testing.assert_allclose(logs.lr, [0.05, 0.025, 0.0125], rtol=1e-6)
    assert len(model.optimizer.variables) == n_vars - 1
    expected = sgd_by_hand([0.1, 0.05, 0.025, 0.0125], [0.9] * 4)
    np.testing.assert_allclose(model.dense.get_weights()[0], expected, rtol=1e-5, atol=1e-6)
