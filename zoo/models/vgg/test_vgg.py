"""VGG's own tests: parameter counts against torchvision, stages, and ported weights
against torchvision. The shared checks are in tests/models."""

import pytest

from ported_checks import check_port
from vision_checks import STANDARD_SIZES, check_stage_outputs, check_standard_size
from vision_checks import check_trainable_params


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
    check_trainable_params(name, TORCHVISION_PARAMS[name])


@pytest.mark.parametrize("name,channels", CHANNELS)
def test_features_only_and_stage_outputs(name, channels):
    check_stage_outputs(name, channels)


@pytest.mark.parametrize("name", BUILDS)
@pytest.mark.parametrize("input_shape", STANDARD_SIZES)
def test_builds_on_standard_sizes(name, input_shape):
    check_standard_size(name, input_shape)


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
