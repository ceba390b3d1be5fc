"""GoogLeNet's own tests: parameter counts against torchvision, auxiliary heads, stages,
and ported weights against torchvision. The shared checks are in tests/models."""

import keras
import numpy as np
import pytest

import zoo
from model_checks import check_training_lowers_loss
from ported_checks import check_port
from vision_checks import STANDARD_SIZES, build_only, check_stage_outputs, check_standard_size
from vision_checks import check_trainable_params
from zoo.jobs import references


CHANNELS = [("googlenet", [192, 480, 832, 1024])]
BUILDS = ["googlenet"]


def test_trainable_params_equal_torchvision():
    # torchvision 0.29 googlenet(aux_logits=False): 6,624,904; with them (its default) 13,004,888
    check_trainable_params("googlenet", 6_624_904)
    check_trainable_params("googlenet", 13_004_888, aux_logits=True)


@pytest.mark.parametrize("name,channels", CHANNELS)
def test_features_only_and_stage_outputs(name, channels):
    check_stage_outputs(name, channels)


@pytest.mark.parametrize("name", BUILDS)
@pytest.mark.parametrize("input_shape", STANDARD_SIZES)
def test_builds_on_standard_sizes(name, input_shape):
    check_standard_size(name, input_shape)


def test_aux_heads_train_only():
    shape = (28, 28, 1)
    model = zoo.create("googlenet", input_shape=shape, num_classes=3, width_multiplier=0.125,
                       dropout=0.0, aux_logits=True)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(8, *shape)).astype("float32"), np.arange(8) % 3
    assert tuple(model(x).shape) == (8, 3)
    logits, aux1, aux2 = model(x, training=True)
    assert tuple(aux1.shape) == tuple(aux2.shape) == (8, 3)
    model.compile()
    main = float(model.compute_loss(x, y, logits))
    total = float(model.compute_loss(x, y, (logits, aux1, aux2)))
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    expected = main + 0.3 * (float(ce(y, aux1)) + float(ce(y, aux2)))
    assert total == pytest.approx(expected, rel=1e-5)
    check_training_lowers_loss(model, x, y, steps=3, compile_kwargs={
        "optimizer": keras.optimizers.Adam(1e-3), "run_eagerly": True})
    assert tuple(model.predict(x, verbose=0).shape) == (8, 3)


def test_with_auxiliary_heads_every_tensor_converts():
    from zoo.weights import convert

    ref = references.torchvision_model("googlenet", device="meta", aux_logits=True)
    shapes = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    model = build_only("googlenet", aux_logits=True)
    used = {a.key for a in convert.plan(model)}
    assert {k for k in shapes if not k.endswith("num_batches_tracked")} == used
    keras.backend.clear_session(free_memory=False)


# the reference applies torchvision's transform_input, as with its ImageNet weights; the zoo
# model gets the entry's equivalent preprocessing (mean = std = 0.5) on raw pixels
PREPROCESSING = {"resize": None, "crop": [64, 64], "interpolation": "bilinear",
                 "mean": [0.5] * 3, "std": [0.5] * 3}


@pytest.mark.jax
def test_ported_googlenet_equals_torchvision(tmp_path):
    check_port("googlenet", {},
               lambda tv: references.torchvision_model("googlenet", transform_input=True),
               "torchvision", tmp_path, zoo_inputs="pixels", preprocessing=PREPROCESSING)
