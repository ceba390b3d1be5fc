"""keras.io's transfer pattern around a zoo model of every family: trains, saves, reloads."""

import numpy as np
import pytest

import zoo
from model_checks import check_functional_reload_in_new_process
from zoo import registry
from zoo.registry import get

pytestmark = pytest.mark.jax

IMAGE = (32, 32, 3)
# Widths of 1-4 channels: on JAX every new variable shape compiles its initializer (seconds
# each), so the tiny models share a handful of shapes; the failure was in deserialization,
# which a network's width does not change.
VISION = dict(input_shape=IMAGE, num_classes=3, width_multiplier=0.01)
GENERATIVE = dict(input_shape=(8, 8, 1), latent_dim=3, hidden_units=(4,), filters=(4,),
                  variant="dense")
# one tiny model per family: {family: (name, constructor arguments, input shape, input dtype)}
CASES = {
    "perceptron": ("perceptron", dict(input_shape=(4,)), (4,), "float32"),
    "mlp": ("mlp", dict(input_shape=(6, 6, 1), num_classes=3, hidden_units=(4,)), (6, 6, 1),
            "float32"),
    "alexnet": ("alexnet", dict(VISION, head_units=(4,)), IMAGE, "float32"),
    "vgg": ("vgg11_bn", dict(VISION, head_units=(4,)), IMAGE, "float32"),
    "googlenet": ("googlenet", VISION, IMAGE, "float32"),
    "resnet": ("resnet50", dict(VISION, depths=(1, 1, 1, 1)), IMAGE, "float32"),
    "densenet": ("densenet121", dict(VISION, depths=(1, 1, 1, 1)), IMAGE, "float32"),
    "speednet": ("speednet", VISION, IMAGE, "float32"),
    "swin": ("swin_v2_t", dict(input_shape=IMAGE, num_classes=3, filters=(2, 4), num_heads=(1, 2),
                               depths=(2, 1), window_size=4), IMAGE, "float32"),
    "rnn": ("lstm", dict(text_input=False, vocabulary_size=20, sequence_length=6,
                         embedding_dim=4, units=4), (6,), "int32"),
    "autoencoder": ("autoencoder", GENERATIVE, (8, 8, 1), "float32"),
    "vae": ("vae", GENERATIVE, (8, 8, 1), "float32"),
    "gan": ("dcgan", GENERATIVE, (8, 8, 1), "float32"),
}


def _declared_case(family):
    """A family without a hand-written case: its shortest name at its tiny configuration
    (`tiny_arguments` in its `<family>_variants.py`)."""
    name = min(registry.families()[family].names(), key=lambda n: (len(n), n))
    kwargs = dict(registry.family(name).declaration("variants").tiny_arguments(name))
    kwargs["num_classes"] = 3
    shape = kwargs.get("input_shape") or registry.defaults(name)["input_shape"]
    return name, kwargs, tuple(shape), "float32"


for _family in registry.families():
    if _family not in CASES:
        CASES[_family] = _declared_case(_family)


def test_cases_cover_every_registered_family():
    assert set(CASES) == {get(name).family for name in zoo.list_models()}


def test_functional_transfer_model_reloads_in_a_new_process(tmp_path):
    rng = np.random.default_rng(0)
    cases = {}
    for family, (name, kwargs, shape, dtype) in CASES.items():
        if dtype == "int32":
            x = rng.integers(1, 20, size=(8, *shape)).astype("int32")
        else:
            x = rng.uniform(size=(8, *shape)).astype("float32")
        cases[family] = (zoo.create(name, **kwargs), x, np.arange(8) % 3)
    check_functional_reload_in_new_process(cases, tmp_path)
