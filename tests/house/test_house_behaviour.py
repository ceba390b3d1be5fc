"""Behaviour the house rules promise: the same update on every backend, default names,
schedules passed to fit by mistake, counting parameters without allocating them."""

import warnings

import keras
import numpy as np
import pytest

import callbacks
import zoo
from zoo import compat, registry
from zoo.training import ZooModel


class HalfUsed(ZooModel):
    """A model with a trainable layer its loss never reaches."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.used = keras.layers.Dense(3, name="used")
        self.unused = keras.layers.Dense(3, name="unused")
        self.unused.build((None, 4))

    def call(self, x, training=False):
        return self.used(x)


@pytest.mark.jax
@pytest.mark.torch
def test_a_variable_without_gradient_is_not_updated_on_any_backend():
    model = HalfUsed()
    model(np.zeros((1, 4), "float32"))
    # momentum and weight decay would move a variable whose gradient is taken as zero
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=0.1),
                  loss="mse")
    unused = [np.array(keras.ops.convert_to_numpy(v)) for v in model.unused.weights]
    used = np.array(keras.ops.convert_to_numpy(model.used.kernel))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(16, 3)).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # keras warns that those gradients do not exist
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for before, v in zip(unused, model.unused.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(v), before)
    assert not np.allclose(keras.ops.convert_to_numpy(model.used.kernel), used)


@pytest.mark.jax
@pytest.mark.torch
def test_momentum_schedule_values_and_torchs_host_step_count():
    model = zoo.create("mlp", input_shape=(4,), num_classes=3, hidden_units=(8,))
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  momentum_schedule=lambda step: 0.5 + 0.01 * keras.ops.cast(step, "float32"))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 3, 32)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    # the logged momentum is the schedule at the step each epoch ended on (3, then 7)
    np.testing.assert_allclose(history.history["momentum"], [0.53, 0.57], rtol=1e-6)
    if keras.backend.backend() == "torch":
        # no device read per step: optimizer.iterations read once per fit, then counted
        (count,) = model._zoo_host_iterations.values()
        assert count == int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 8


@pytest.mark.parametrize("name", ["resnet50", "mlp", "dcgan", "dropout_autoencoder"])
def test_a_models_default_name_is_its_registered_name(name):
    model = compat.build_shapes_only(lambda: zoo.create(name))  # no weights allocated
    assert model.name == name
    assert zoo.create("mlp", name="probe", input_shape=(4,), num_classes=2).name == "probe"


@pytest.mark.jax
def test_a_schedule_passed_to_fit_says_to_wrap_it():
    x, y = np.zeros((8, 4), "float32"), np.zeros(8, "int32")
    model = zoo.create("mlp", input_shape=(4,), num_classes=3, hidden_units=(8,))
    model.compile(optimizer="sgd")
    for schedule in (callbacks.OneCycle(0.1, total_steps=4),
                     keras.optimizers.schedules.ExponentialDecay(0.1, 1, 0.9)):
        with pytest.raises(TypeError, match=r"not a callback.*callbacks\.Scheduler"):
            model.fit(x, y, epochs=1, verbose=0, callbacks=[schedule])
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    plain.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match=r"OneCycle is a schedule, not a callback"):
        plain.fit(x, np.zeros((8, 3)), epochs=1, verbose=0,
                  callbacks=[callbacks.OneCycle(0.1, total_steps=4)])


def test_model_info_counts_parameters_without_initialising_them(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an initializer ran: the weights were allocated")

    # VGG's convolutions and dense layers draw from VarianceScaling (Glorot is one)
    monkeypatch.setattr(keras.initializers.VarianceScaling, "__call__", refuse)
    monkeypatch.setattr(registry, "_PARAM_COUNTS", {})
    info = zoo.model_info("vgg19")
    assert info["params"] == 143_667_240  # torchvision's 143,667,240
    assert info["name"] == "vgg19" and info["family"] == "vgg"
    with keras.StatelessScope():
        pass  # closing a stateless scope initialises what is pending: VGG-19 must not be
    with pytest.raises(AssertionError, match="initializer ran"):
        zoo.create("vgg11", width_multiplier=0.125)


def test_converter_logs_are_filtered_and_errors_kept(monkeypatch, capfd):
    """What TensorFlow's converters log from C++ at INFO/WARNING goes; errors stay."""
    import os

    from zoo.utils import tensorflow_logs

    monkeypatch.setattr(tensorflow_logs, "wanted", lambda: False)
    with tensorflow_logs.filtered_stderr(tensorflow_logs.CONVERTER_NOISE):
        os.write(2, b"I0000 00:00:1.2 1 loader.cc:236] Restoring SavedModel bundle.\n"
                    b"W0000 00:00:1.3 1 helpers.cc:364] Ignored output_format.\n"
                    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
                    b"E0000 00:00:1.4 1 op.cc:1] a real error\n")
    err = capfd.readouterr().err
    assert err == "E0000 00:00:1.4 1 op.cc:1] a real error\n"
    monkeypatch.setattr(tensorflow_logs, "wanted", lambda: True)  # the user asked: all of it
    with tensorflow_logs.filtered_stderr(tensorflow_logs.CONVERTER_NOISE):
        os.write(2, b"I0000 shown\n")
    assert capfd.readouterr().err == "I0000 shown\n"
