"""`zoo.quantize(model, "int8")`: keras's int8 Dense/EinsumDense/Embedding on every family,
in the zoo's step, through `.keras` files reloaded in a new process."""

import numpy as np
import pytest
from model_checks import predict_in_new_process, tiny_batch, tiny_model

import keras
import zoo
from zoo.registry import get as registry_entry
from zoo.training import quantization

IMAGE = dict(input_shape=(16, 16, 3), num_classes=3, width_multiplier=0.125)
MLP = dict(input_shape=(8,), num_classes=3)
# largest |int8 - float| relative to the largest |float| output: weights per channel and
# inputs per row in int8 lose ~1 % (2 % for the deepest stacks of random layers)
RELATIVE_TOLERANCE = 0.05


def _one_name_per_class():
    """The shortest registered name of every model class: each family's tiny configuration
    (`tiny_arguments`) covers a new family without a line here."""
    names = {}
    for name in sorted(zoo.list_models(), key=lambda n: (len(n), n)):
        names.setdefault(registry_entry(name).cls, name)
    return sorted(names.values())


def _inputs(model, n=4):
    if hasattr(model, "generator"):  # a GAN's call is its generator: latent vectors
        return np.random.default_rng(0).standard_normal((n, model.latent_dim)).astype("float32")
    return tiny_batch(model, n)[0]


def _outputs(model, x):
    net = model.generator if hasattr(model, "generator") else model
    return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(net(x, training=False))]


@pytest.mark.parametrize("name", _one_name_per_class())
def test_every_model_class_quantizes_its_dense_and_embedding_layers(name):
    model = tiny_model(name)
    x = _inputs(model)
    before = _outputs(model, x)
    layers = quantization.quantizable_layers(model)
    assert layers, f"{name}: no Dense/EinsumDense/Embedding layer"
    assert zoo.quantize(model, "int8") is model
    for layer in layers:
        kernel = layer.embeddings if isinstance(layer, keras.layers.Embedding) else layer.kernel
        assert keras.backend.standardize_dtype(kernel.dtype) == "int8", layer.name
        assert layer.dtype_policy.quantization_mode == "int8"
    assert model.get_config()["quantization"] == "int8"
    clone = type(model).from_config(model.get_config())  # what a .keras file loads through
    assert [layer.dtype_policy.quantization_mode for layer in
            quantization.quantizable_layers(clone)] == ["int8"] * len(layers)
    for f, q in zip(before, _outputs(model, x)):
        assert np.max(np.abs(q - f)) <= RELATIVE_TOLERANCE * np.max(np.abs(f)) + 1e-6, name


def test_the_float_layer_types_are_named():
    model = zoo.create("resnet20", **IMAGE)
    assert quantization.float_layer_types(model) == ["BatchNormalization", "Conv2D"]
    assert [type(layer).__name__ for layer in quantization.quantizable_layers(model)] == ["Dense"]


@pytest.mark.jax
def test_a_model_with_nothing_quantizable_is_refused_naming_its_layer_types():
    backbone = zoo.create("resnet20", input_shape=(16, 16, 3), filters=(4, 4, 4),
                          include_top=False, pooling="avg")
    with pytest.raises(ValueError, match=r"Nothing to quantize.*its layers with weights: "
                                         r"BatchNormalization, Conv2D.*scripts/export.py "
                                         r"--quantize int8\. Received: model='resnet20'"):
        zoo.quantize(backbone, "int8")
    assert "quantization" not in backbone.get_config()


@pytest.mark.parametrize("mode", ["int3", "float8", None])
def test_an_unknown_mode_is_one_line(mode):
    model = zoo.create("mlp", **MLP)
    with pytest.raises(ValueError, match=rf"^Unknown quantization mode: use one of \('int8', "
                                         rf"'int4'\)\. Received: mode={mode!r}$"):
        zoo.quantize(model, mode)


def test_keras_filters_are_refused_on_zoo_models():
    model = zoo.create("mlp", **MLP)
    with pytest.raises(ValueError, match="zoo.quantize"):
        model.quantize("int8", filters="dense_0")


@pytest.mark.jax
def test_the_zoo_step_runs_the_int8_model_and_its_keras_file_reloads_in_a_new_process(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.random((64, 6, 6, 1)).astype("float32")
    y = rng.integers(0, 3, 64)
    mlp = zoo.create("mlp", input_shape=(6, 6, 1), num_classes=3, hidden_units=(32, 16))
    mlp.compile(optimizer="adam")
    mlp.fit(x, y, epochs=3, batch_size=32, verbose=0)
    float_logs = mlp.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    float_out = mlp.predict(x, batch_size=32, verbose=0)
    zoo.quantize(mlp, "int8")
    # evaluate and predict: the zoo's test and predict steps, traced again after quantize
    logs = mlp.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    out = mlp.predict(x, batch_size=32, verbose=0)
    assert set(logs) == set(float_logs)
    assert abs(logs["loss"] - float_logs["loss"]) <= 0.02 * float_logs["loss"]
    np.testing.assert_allclose(out, float_out, atol=RELATIVE_TOLERANCE * np.abs(float_out).max())
    assert (out.argmax(1) == float_out.argmax(1)).mean() >= 0.95

    # an Embedding and a Dense behind an LSTM, too
    lstm = zoo.create("lstm", vocabulary_size=40, sequence_length=6, units=8, text_input=False,
                      embedding_dim=8)
    zoo.quantize(lstm, "int8")
    cases = {"mlp": (mlp, x[:5]), "lstm": (lstm, rng.integers(1, 40, (5, 6)).astype("int32"))}
    for label, (before, after, seen) in predict_in_new_process(cases, tmp_path).items():
        assert seen["config"]["quantization"] == "int8" and "int8" in seen["dtypes"], seen
        np.testing.assert_array_equal(after, before, err_msg=label)
