"""Inception v3's own tests: parameter counts against torchvision, the auxiliary head, input
sizes, feature taps, and ported weights against torchvision (transform_input as its weights).

The shared checks every name runs (training, `.keras` round trip) are in
tests/models/test_models_every_name.py.
"""

import keras
import numpy as np
import pytest

import zoo
from ported_checks import check_port
from vision_checks import build_only, trainable_count
from zoo.jobs import references
from zoo.weights import convert


def test_trainable_params_equal_torchvision():
    # torchvision 0.28 inception_v3(aux_logits=False): 23,834,568; with it (its default)
    # 27,161,264
    model = build_only("inception_v3")
    assert model.expected_input_shape() == (299, 299, 3)
    assert trainable_count(model) == 23_834_568
    assert trainable_count(build_only("inception_v3", aux_logits=True)) == 27_161_264


@pytest.mark.parametrize("kwargs,match", [
    ({"input_shape": (64, 64, 3)}, r"at least 75x75.*input_shape=\(64, 64, 3\)"),
    ({"input_shape": (224, 224, 3), "aux_logits": True},
     r"aux_logits=True needs inputs of at least 299x299.*input_shape=\(224, 224, 3\)"),
    ({"aux_logits": "yes"}, "aux_logits='yes'"),
    ({"aux_weight": -1}, "aux_weight=-1"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_only("inception_v3", **kwargs)


def test_features_only_gives_each_stage():
    model = build_only("inception_v3", features_only=True)
    assert [tuple(s.shape[1:]) for s in model.outputs] == [
        (147, 147, 64), (71, 71, 192), (35, 35, 288), (17, 17, 768), (8, 8, 2048)]
    assert model.feature_layer_names() == [f"stage{i}" for i in range(1, 6)]


def test_aux_head_train_only_and_every_tensor_converts():
    model = build_only("inception_v3", aux_logits=True, num_classes=5)
    x = keras.KerasTensor((2, 299, 299, 3))
    logits, aux = model.compute_output_spec(x, training=True)
    assert tuple(aux.shape) == tuple(logits.shape) == (2, 5)
    assert tuple(model.compute_output_spec(x).shape) == (2, 5)
    ref = references.torchvision_model("inception_v3", device="meta", aux_logits=True,
                                       num_classes=5)
    shapes = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    used = {a.key for a in convert.plan(build_only("inception_v3", aux_logits=True,
                                                   num_classes=5))}
    assert {k for k in shapes if not k.endswith("num_batches_tracked")} == used
    keras.backend.clear_session(free_memory=False)


def test_aux_loss_is_weighted():
    model = zoo.create("inception_v3", input_shape=(299, 299, 3), num_classes=3,
                       width_multiplier=1 / 32, dropout=0.0, aux_logits=True)
    x = np.random.default_rng(0).uniform(size=(2, 299, 299, 3)).astype("float32")
    y = np.array([0, 2])
    logits, aux = model(x, training=True)
    model.compile()
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    total = float(model.compute_loss(x, y, (logits, aux)))
    assert total == pytest.approx(float(ce(y, logits)) + 0.4 * float(ce(y, aux)), rel=1e-5)


# the reference applies torchvision's transform_input, as with its ImageNet weights; the zoo
# model gets the entry's equivalent preprocessing (mean = std = 0.5) on raw pixels
PREPROCESSING = {"resize": None, "crop": [75, 75], "interpolation": "bilinear",
                 "mean": [0.5] * 3, "std": [0.5] * 3}


@pytest.mark.jax
def test_ported_inception_v3_equals_torchvision(tmp_path):
    check_port("inception_v3", {},
               lambda tv: references.torchvision_model("inception_v3", transform_input=True),
               "torchvision", tmp_path, size=75, zoo_inputs="pixels",
               preprocessing=PREPROCESSING)
