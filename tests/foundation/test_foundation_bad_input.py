"""Bad input: errors that name the argument and the value, before training starts."""

import numpy as np
import pytest
import tensorflow as tf

import zoo


@pytest.fixture
def model():
    m = zoo.create("mlp", input_shape=(6, 6, 1), num_classes=4, hidden_units=(8,))
    m.compile()
    return m


def _untrained(model):
    return int(model.optimizer.iterations) == 0


def test_wrong_input_shape(model):
    y = np.zeros(8, "int32")
    with pytest.raises(
        ValueError, match=r"input shape \(6, 6, 1\).*Received: x with shape \(8, 6, 6\)"
    ):
        model.fit(np.zeros((8, 6, 6), "float32"), y, verbose=0)
    with pytest.raises(ValueError, match=r"Received: x with shape \(8, 5, 6, 1\)"):
        model.fit(np.zeros((8, 5, 6, 1), "float32"), y, verbose=0)
    data = tf.data.Dataset.from_tensor_slices((np.zeros((8, 7, 7, 1), "float32"), y)).batch(4)
    with pytest.raises(ValueError, match="Received: x with shape"):
        model.fit(data, verbose=0)
    assert _untrained(model)


def test_labels_out_of_range(model):
    x = np.zeros((4, 6, 6, 1), "float32")
    with pytest.raises(ValueError, match=r"\[0, 4\). Received: label 4"):
        model.fit(x, np.array([0, 1, 2, 4]), verbose=0)
    with pytest.raises(ValueError, match="Received: label -1"):
        model.fit(x, np.array([0, -1, 2, 3]), verbose=0)
    with pytest.raises(ValueError, match="integer class ids"):
        model.fit(x, np.array([0, 0.5, 1, 2]), verbose=0)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(x, np.array([0, 1, 2, 3]), validation_data=(x[:, :3], np.zeros(4)), verbose=0)
    assert _untrained(model)


def test_non_numeric_and_empty(model):
    with pytest.raises(TypeError, match="must hold numbers. Received: x with dtype"):
        model.fit(np.array([["a"] * 36] * 2).reshape(2, 6, 6, 1), np.zeros(2), verbose=0)
    with pytest.raises(TypeError, match="must hold numbers. Received: y with dtype"):
        model.fit(np.zeros((2, 6, 6, 1)), np.array(["cat", "dog"]), verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.fit(np.zeros((0, 6, 6, 1), "float32"), np.zeros(0), verbose=0)
    empty = tf.data.Dataset.from_tensor_slices(
        (np.zeros((0, 6, 6, 1), "float32"), np.zeros(0))
    ).batch(2)
    with pytest.raises(ValueError, match="empty dataset"):
        model.fit(empty, verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.evaluate(np.zeros((0, 6, 6, 1), "float32"), np.zeros(0), verbose=0)
    assert _untrained(model)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(hidden_units=(16, 0)), r"hidden_units.*Received: hidden_units=\(16, 0\)"),
        (dict(hidden_units=(-3,)), "hidden_units"),
        (dict(num_classes=0), "num_classes=0"),
        (dict(input_shape=(0, 3)), "input_shape"),
        (dict(input_shape="abc"), "input_shape"),
        (dict(dropout=1.5), "dropout=1.5"),
        (dict(activation="nope"), "nope"),
    ],
)
def test_bad_model_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.create("mlp", **kwargs)


def test_unknown_optimizer_name():
    m = zoo.create("mlp", hidden_units=(8,))
    with pytest.raises(ValueError, match=r"Received: optimizer='adamm'"):
        m.compile(optimizer="adamm")
