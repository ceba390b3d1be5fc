"""The shared model test, run over every registered name (as timm's tests run over
`list_models()`, and keras-hub's `run_backbone_test` over each backbone).

Each family declares a tiny configuration of each of its names,
`tiny_arguments(name)` in `zoo/models/<family>/<family>_variants.py`: the
variant's own layer kinds at small widths and depths, so every name builds in
well under a second, a 600M-parameter one included. A family whose inputs are
not images or vectors in [0, 1) with integer labels declares `tiny_batch(model,
n)` beside it. A new family is covered here without a line of test code.
"""

import keras
import numpy as np
import pytest

import zoo
from model_checks import check_config_round_trip, check_saving_round_trip, tiny_batch, tiny_model
from zoo import registry
from zoo.models.zoo_classifier import ZooClassifier

NAMES = zoo.list_models()


def test_every_family_declares_a_tiny_configuration():
    for name, family in registry.families().items():
        declared = family.declaration("variants")
        assert declared is not None, f"{family.package} has no {name}_variants.py"
        assert callable(getattr(declared, "tiny_arguments", None)), declared.__name__


@pytest.mark.parametrize("name", NAMES)
def test_shared_model_checks(name, tmp_path):
    """Through the entry point: the registered class and name, a few steps that lower a
    classifier's loss (one finite step for the others), config and `.keras` round trips
    with equal outputs."""
    entry = registry.get(name)
    model = tiny_model(name)
    assert type(model) is entry.cls and model.name == name
    x, y = tiny_batch(model)
    # TensorFlow eager: tracing a 100-layer graph costs more than 3 steps on 8 examples
    model.compile(optimizer=keras.optimizers.Adam(1e-3), run_eagerly=True)
    if isinstance(model, ZooClassifier):
        losses = model.fit(x, y, epochs=3, batch_size=len(x), shuffle=False,
                           verbose=0).history["loss"]
        assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    else:
        logs = model.train_on_batch(x, y, return_dict=True)
        assert all(np.isfinite(float(v)) for v in logs.values()), logs
    check_config_round_trip(model)
    check_saving_round_trip(model, x, tmp_path)


def test_the_vision_names():
    expected = {
        "alexnet", "googlenet",
        *(f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")), "vgg13_cifar",
        *(f"resnet{d}" for d in (18, 34, 50, 101, 152, 20, 32, 44, 56, 110)),
        "densenet121", "densenet161", "densenet169", "densenet201", "densenet_bc_100",
        "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
        "wide_resnet101_2",
        "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
        *(f"efficientnet_b{i}" for i in range(8)),
        *(f"efficientnet_v2_{s}" for s in "sml"),
    }
    families = ("alexnet", "vgg", "googlenet", "resnet", "densenet", "mobilenet", "efficientnet")
    assert {n for n in NAMES if registry.get(n).family in families} == expected


@pytest.mark.jax
@pytest.mark.parametrize("name", [pytest.param("resnet20", marks=pytest.mark.torch), "vgg11"])
def test_shared_model_checks_traced(name, tmp_path):
    """The compiled step (jax.jit under KERAS_BACKEND=jax, tf.function here; torch: eager)."""
    model = tiny_model(name)
    x, y = tiny_batch(model)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    losses = model.fit(x, y, epochs=3, batch_size=len(x), shuffle=False,
                       verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    check_saving_round_trip(model, x, tmp_path)
