import keras
import pytest

import zoo
from zoo.registry import register
from zoo.training import ZooModel


def test_list_models_and_patterns():
    names = zoo.list_models()
    assert {"mlp", "perceptron"} <= set(names)
    assert names == sorted(names)
    assert zoo.list_models("perc*") == ["perceptron"]
    assert zoo.list_models("no-such-*") == []


def test_seed_mlp_parameter_count():
    model = zoo.create("mlp", input_shape=(28, 28, 1), num_classes=10)
    assert model.count_params() == 244522
    assert isinstance(model, ZooModel) and isinstance(model, keras.Model)


def test_perceptron_is_one_sigmoid_unit():
    model = zoo.create("perceptron", input_shape=(2,))
    assert model.count_params() == 3
    assert isinstance(model.default_loss(), keras.losses.BinaryCrossentropy)


def test_model_info():
    info = zoo.model_info("mlp")
    assert info["family"] == "mlp"
    assert info["params"] == 244522
    assert info["defaults"]["hidden_units"] == (256, 128, 64, 32)
    assert isinstance(info["weights"], list)


def test_registering_a_taken_name_raises():
    class Again(ZooModel):
        pass

    with pytest.raises(ValueError, match="already registered"):

        @register(Again)
        def mlp(**kwargs):
            """Another mlp."""

    with pytest.raises(ValueError, match="no row for 'again'"):

        @register(Again, {"other": {}})
        def again(**kwargs):
            """A name without its row in the table."""


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"Received: name='mlpp'.*'mlp'"):
        zoo.create("mlpp")
    with pytest.raises(ValueError, match="Unknown model name"):
        zoo.model_info("zzzz")
    with pytest.raises(TypeError, match="name"):
        zoo.create(3)


def test_unknown_argument_names_the_argument():
    with pytest.raises(TypeError, match="hiden_units"):
        zoo.create("mlp", hiden_units=(3,))
