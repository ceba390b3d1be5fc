"""AlexNet's own tests: parameter count against torchvision, input sizes, stages, and
ported weights against torchvision. The shared checks are in tests/models."""

import pytest

from ported_checks import check_port
from vision_checks import STANDARD_SIZES, build_only, check_stage_outputs, check_standard_size
from vision_checks import check_trainable_params


CHANNELS = [("alexnet", [64, 192, 256])]
BUILDS = ["alexnet"]


def test_trainable_params_equal_torchvision():
    # torchvision 0.29: sum(p.numel() for p in model.parameters()) at 224x224x3, 1000 classes
    check_trainable_params("alexnet", 61_100_840)


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
    check_stage_outputs(name, channels)


@pytest.mark.parametrize("name", BUILDS)
@pytest.mark.parametrize("input_shape", STANDARD_SIZES)
def test_builds_on_standard_sizes(name, input_shape):
    check_standard_size(name, input_shape)


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
