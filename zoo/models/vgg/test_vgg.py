"""VGG's own tests: parameter counts against torchvision, stages, and ported weights
against torchvision. The shared checks are in tests/models."""

import math

import keras
import numpy as np
import pytest

import zoo
from ported_checks import check_port
from zoo import compat


def build_only(name, **kwargs):
    """Builds without initialising the weights (shapes only): fast for large nets."""
    return compat.build_shapes_only(lambda: zoo.create(name, **kwargs))


def trainable_count(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def output_shapes(model, input_shape):
    out = model.compute_output_spec(keras.KerasTensor((2, *input_shape)))
    return [tuple(o.shape) for o in keras.tree.flatten(out)]


CHANNELS = [("vgg11", [64, 128, 256, 512, 512])]
BUILDS = ["vgg11_bn"]
# torchvision 0.29: sum(p.numel() for p in model.parameters()) at 224x224x3, 1000 classes
TORCHVISION_PARAMS = {
    "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_trainable_params_equal_torchvision(name):
    model = build_only(name)
    assert model.expected_input_shape() == (224, 224, 3)
    assert trainable_count(model) == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("name,channels", CHANNELS)
def test_features_only_and_stage_outputs(name, channels):
    shape = (64, 64, 3)
    x = np.random.default_rng(0).uniform(size=(2, *shape)).astype("float32")
    model = build_only(name, input_shape=shape, features_only=True)
    specs = model.compute_output_spec(keras.KerasTensor((2, *shape)))
    assert [s.shape[-1] for s in specs] == channels
    sizes = [s.shape[1] for s in specs]
    assert sizes == sorted(sizes, reverse=True)
    # stage_outputs of a classifier: same maps, computed for real
    small = zoo.create(name, input_shape=shape, width_multiplier=0.125, num_classes=4)
    maps = small.stage_outputs(x)
    assert [tuple(m.shape[1:3]) for m in maps] == [tuple(s.shape[1:3]) for s in specs]


@pytest.mark.parametrize("name", BUILDS)
@pytest.mark.parametrize("input_shape", [(28, 28, 1), (32, 32, 3), (224, 224, 3)])
def test_builds_on_standard_sizes(name, input_shape):
    model = build_only(name, input_shape=input_shape, num_classes=10, width_multiplier=0.25)
    assert output_shapes(model, input_shape) == [(2, 10)]


SMALL_VGG = dict(filters=(8, 16, 24, 32, 32), head_units=(64, 64), num_classes=10)


def _vgg(cfg, batch_norm):
    """torchvision's VGG of `cfg` with its classifier (same module indices) at width 64."""
    def build(tv):
        import torch.nn as nn

        ref = tv.models.vgg.VGG(tv.models.vgg.make_layers(cfg, batch_norm=batch_norm),
                                init_weights=False)
        ref.classifier = nn.Sequential(nn.Linear(cfg[-2] * 49, 64), nn.ReLU(), nn.Dropout(),
                                       nn.Linear(64, 64), nn.ReLU(), nn.Dropout(),
                                       nn.Linear(64, 10))
        return ref

    return build


@pytest.mark.jax
def test_ported_vgg11_bn_equals_torchvision(tmp_path):
    check_port("vgg11_bn", SMALL_VGG,
               _vgg([8, "M", 16, "M", 24, 24, "M", 32, 32, "M", 32, 32, "M"], True),
               "torchvision", tmp_path)


@pytest.mark.jax
def test_ported_vgg16_equals_torchvision(tmp_path):
    check_port("vgg16", SMALL_VGG, _vgg(
        [8, 8, "M", 16, 16, "M", 24, 24, 24, "M", 32, 32, 32, "M", 32, 32, 32, "M"], False),
        "torchvision", tmp_path)
