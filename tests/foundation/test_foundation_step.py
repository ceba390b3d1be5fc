"""The zoo's custom step: parity with keras, mixed precision, clipping, logs, players."""

import math

import keras
import numpy as np
import pytest
from keras import layers, ops

import zoo
from zoo.training import Player, PlayerOptimizers, ZooModel, input_gradient

pytestmark = [pytest.mark.jax, pytest.mark.torch]


def _data(n=320, shape=(6, 6, 1), classes=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n,) + shape, dtype=np.float32)
    y = rng.integers(0, classes, n).astype("int32")
    return x, y


class _BatchLosses(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def test_step_parity_with_keras_sequential():
    """20 SGD steps: zoo MLP and a keras.Sequential with the same weights end equal."""
    x, y = _data()
    model = zoo.create("mlp", input_shape=(6, 6, 1), num_classes=10, hidden_units=(32, 16))
    reference = keras.Sequential(
        [keras.Input((6, 6, 1)), layers.Flatten(), layers.Dense(32, activation="relu"),
         layers.Dense(16, activation="relu"), layers.Dense(10)]
    )
    reference.set_weights(model.get_weights())
    recorded = {}
    for key, m in (("zoo", model), ("keras", reference)):
        m.compile(
            optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        cb = _BatchLosses()
        m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[cb])
        recorded[key] = cb.losses
    assert len(recorded["zoo"]) == 20
    np.testing.assert_allclose(recorded["zoo"], recorded["keras"], atol=1e-5)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_default_compile_and_logs():
    x, y = _data(64)
    model = zoo.create("mlp", input_shape=(6, 6, 1), hidden_units=(8,))
    model.compile()
    assert isinstance(model.loss, keras.losses.SparseCategoricalCrossentropy)
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert {"loss", "accuracy", "lr", "momentum"} <= set(history.history)
    assert history.history["lr"][0] == pytest.approx(1e-3)
    assert history.history["momentum"][0] == pytest.approx(0.9)  # Adam's beta_1


def test_lr_log_follows_schedule_per_step():
    x, y = _data(64)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    model = zoo.create("mlp", input_shape=(6, 6, 1), hidden_units=(8,))
    model.compile(optimizer=keras.optimizers.SGD(schedule))
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(logs["lr"]))

    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[Record()])
    np.testing.assert_allclose(seen, [0.1 * 0.5**i for i in range(4)], rtol=1e-6)


def test_gradient_clipping_bounds_the_update():
    x, y = _data(32)
    y = y * 0  # a big, consistent gradient
    model = zoo.create("mlp", input_shape=(6, 6, 1), hidden_units=(8,))
    before = [np.array(w) for w in model.get_weights()]
    model.compile(optimizer=keras.optimizers.SGD(1.0), gradient_clip_norm=1e-3)
    model.fit(x * 100, y, batch_size=32, epochs=1, verbose=0)
    delta = math.sqrt(sum(float(np.sum((a - b) ** 2)) for a, b in zip(model.get_weights(), before)))
    assert 0 < delta <= 1e-3 * (1 + 1e-4)


def test_gradient_clip_norm_is_a_model_argument():
    model = zoo.create("mlp", input_shape=(6, 6, 1), hidden_units=(8,), gradient_clip_norm=2.0)
    model.compile(optimizer="sgd")
    assert model.optimizer.global_clipnorm == 2.0
    assert type(model).from_config(model.get_config()).gradient_clip_norm == 2.0
    with pytest.raises(ValueError, match="gradient_clip_norm"):
        zoo.create("mlp", gradient_clip_norm=-1)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_step_logs_unscaled_finite_loss(policy):
    keras.config.set_dtype_policy(policy)
    x, y = _data(64)
    model = zoo.create("mlp", input_shape=(6, 6, 1), hidden_units=(16,))
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (policy == "mixed_float16")
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    for loss in history.history["loss"]:
        assert math.isfinite(loss)
        # cross-entropy of 10 classes near ln(10); a scaled loss would be ~2**15 larger
        assert abs(loss - math.log(10)) < 1.0
    if scaled:
        assert float(model.optimizer.dynamic_scale) > 1.0


def test_momentum_schedule_drives_the_update():
    """Two SGD steps with momentum m_k = schedule(k) equal the update done by hand."""
    w0 = np.array([[0.5], [-0.25]], dtype="float32")
    model = LinearModel()
    model.dense.set_weights([w0])
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    model.set_momentum_schedule(lambda step: 0.3 + 0.2 * ops.cast(step, "float32"))
    x = np.array([[1.0, 2.0], [3.0, -1.0]], dtype="float32")
    y = np.array([[1.0], [0.0]], dtype="float32")
    history = model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["momentum"], [0.3, 0.5], rtol=1e-6)

    w, v = w0.astype("float64"), np.zeros_like(w0, dtype="float64")
    for momentum in (0.3, 0.5):
        grad = 2 * x.T @ (x @ w - y) / len(x)
        v = momentum * v - 0.1 * grad
        w = w + v
    np.testing.assert_allclose(model.dense.get_weights()[0], w, rtol=1e-5)


def test_momentum_schedule_rejects_optimizers_without_momentum():
    model = LinearModel()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    with pytest.raises(ValueError, match="momentum=0"):
        model.set_momentum_schedule(lambda step: 0.9)
    model.compile(optimizer=keras.optimizers.Adagrad(0.1), loss="mse")
    with pytest.raises(ValueError, match="Adagrad"):
        model.set_momentum_schedule(lambda step: 0.9)


@keras.saving.register_keras_serializable(package="zoo_tests")
class LinearModel(ZooModel):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(1, use_bias=False)
        self.dense.build((None, 2))

    def call(self, x):
        return self.dense(x)


@keras.saving.register_keras_serializable(package="zoo_tests")
class TwoPlayers(ZooModel):
    """Player `a` fits y, player `b` fits -y plus a gradient penalty on its input gradient."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = layers.Dense(1, name="a")
        self.b = layers.Dense(1, name="b")
        self.a.build((None, 3))
        self.b.build((None, 3))
        self.a_loss = keras.metrics.Mean(name="a_loss")
        self.b_loss = keras.metrics.Mean(name="b_loss")
        self.built = True

    @property
    def metrics(self):
        return [self.a_loss, self.b_loss]

    def call(self, x):
        return self.a(x) + self.b(x)

    def players(self):
        def loss_a(data):
            x, y = data
            return ops.mean((self.a(x) - y) ** 2)

        def loss_b(data):
            x, y = data
            grad = input_gradient(lambda t: self.b(t), x)  # each row = b's kernel
            penalty = ops.mean(ops.sum(grad**2, axis=1))
            return ops.mean((self.b(x) + y) ** 2) + 0.1 * penalty, {"penalty": penalty}

        return [
            Player("a", loss_a, self.a.trainable_variables, self.optimizer["a"], steps=2),
            Player("b", loss_b, self.b.trainable_variables, self.optimizer["b"]),
        ]


def test_players_update_their_own_variables(tmp_path):
    x = np.random.default_rng(0).random((64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [2.0], [3.0]])).astype("float32")
    model = TwoPlayers()
    model.compile(optimizer=PlayerOptimizers(
        {"a": keras.optimizers.SGD(0.05, momentum=0.5), "b": keras.optimizers.Adam(0.01)}
    ))
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert history.history["a_loss"][-1] < history.history["a_loss"][0]
    assert history.history["b_loss"][-1] < history.history["b_loss"][0]
    assert int(model.optimizer["a"].iterations) == 24  # 2 updates a step, 12 steps
    assert int(model.optimizer["b"].iterations) == 12
    # the penalty is |kernel of b|^2: the input gradient of a linear map is its kernel
    kernel = keras.ops.convert_to_numpy(model.b.kernel)
    assert history.history["penalty"][-1] == pytest.approx(float(np.sum(kernel**2)), rel=0.05)
    assert history.history["lr"][0] == pytest.approx(0.05)
    assert history.history["b_lr"][0] == pytest.approx(0.01)

    path = tmp_path / "two.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert int(loaded.optimizer["a"].iterations) == 24
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_input_gradient_is_differentiable_again():
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
    grad = input_gradient(lambda t: ops.sum(t**3, axis=1), x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grad), 3 * x**2, rtol=1e-6)


def test_dropout_mlp_trains_and_is_deterministic_at_inference():
    x, y = _data(64)
    model = zoo.create("mlp", input_shape=(6, 6, 1), hidden_units=(32,), dropout=0.5)
    model.compile()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert all(math.isfinite(v) for v in history.history["loss"])
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x, verbose=0))
    # training mode drops units: two calls differ from each other and from inference
    inference = keras.ops.convert_to_numpy(model(x, training=False))
    first = keras.ops.convert_to_numpy(model(x, training=True))
    second = keras.ops.convert_to_numpy(model(x, training=True))
    assert not np.allclose(first, second) and not np.allclose(first, inference)
    # each hidden layer's dropout zeroes about half its units in training, none at inference
    (layer,) = model.dropouts
    ones = np.ones((64, 32), "float32")
    assert 0.4 < (keras.ops.convert_to_numpy(layer(ones, training=True)) == 0).mean() < 0.6
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(ones, training=False)), ones)
