"""AlexNet's own tests: parameter count against torchvision, input sizes, stages, and
ported weights against torchvision. The shared checks are in tests/models."""

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


CHANNELS = [("alexnet", [64, 192, 256])]
BUILDS = ["alexnet"]


def test_trainable_params_equal_torchvision():
    # torchvision 0.29: sum(p.numel() for p in model.parameters()) at 224x224x3, 1000 classes
    model = build_only("alexnet")
    assert model.expected_input_shape() == (224, 224, 3)
    assert trainable_count(model) == 61_100_840


def test_small_inputs_raise_naming_the_minimum():
    with pytest.raises(ValueError,
                       match=r"at least 63x63.*stem='small'.*input_shape=\(28, 28, 1\)"):
        build_only("alexnet", input_shape=(28, 28, 1), stem="imagenet")
    with pytest.raises(ValueError, match=r"at least 7x7.*input_shape=\(6, 6, 3\)"):
        build_only("alexnet", input_shape=(6, 6, 3))
    # the automatic choice, and the stated minimum of the ImageNet stem, build
    assert build_only("alexnet", input_shape=(28, 28, 1)).stem == "small"
    assert build_only("alexnet", input_shape=(63, 63, 3), width_multiplier=0.1).stem == "imagenet"


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


def _narrow_alexnet(tv, width=64, classes=10):
    """torchvision's AlexNet with its classifier (same module indices) at `width`, not 4096."""
    import torch.nn as nn

    ref = tv.models.AlexNet()
    ref.classifier = nn.Sequential(nn.Dropout(), nn.Linear(256 * 36, width), nn.ReLU(),
                                   nn.Dropout(), nn.Linear(width, width), nn.ReLU(),
                                   nn.Linear(width, classes))
    return ref


@pytest.mark.jax
def test_ported_alexnet_equals_torchvision(tmp_path):
    check_port("alexnet", dict(head_units=(64, 64), num_classes=10), _narrow_alexnet,
               "torchvision", tmp_path)
