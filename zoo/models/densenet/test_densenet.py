"""DenseNet's own tests: parameter counts against torchvision and the paper, input sizes,
stages, legacy checkpoint names, and ported weights against torchvision. The shared checks
are in tests/models."""

import pytest

from ported_checks import check_port
from vision_checks import STANDARD_SIZES, build_only, check_stage_outputs, check_standard_size
from vision_checks import check_trainable_params, trainable_count


CHANNELS = [("densenet121", [256, 512, 1024, 1024]), ("densenet_bc_100", [216, 300, 342])]
BUILDS = ["densenet121", "densenet_bc_100"]
# torchvision 0.29: sum(p.numel() for p in model.parameters()) at 224x224x3, 1000 classes
TORCHVISION_PARAMS = {"densenet121": 7_978_856, "densenet169": 14_149_480,
                      "densenet201": 20_013_928, "densenet161": 28_681_000}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_trainable_params_equal_torchvision(name):
    check_trainable_params(name, TORCHVISION_PARAMS[name])


def test_densenet_bc_params_match_the_paper():
    # DenseNet-BC k=12 L=100 (Huang et al. 2017, Table 2: 0.8M), at 32x32x3, 10 classes
    model = build_only("densenet_bc_100")
    assert model.expected_input_shape() == (32, 32, 3)
    assert trainable_count(model) == 769_162
    assert abs(769_162 - 0.8e6) / 0.8e6 < 0.04


def test_small_inputs_raise_naming_the_minimum():
    with pytest.raises(ValueError, match=r"at least 29x29.*Received: input_shape=\(28, 28, 1\)"):
        build_only("densenet121", input_shape=(28, 28, 1), stem="imagenet")
    assert build_only("densenet121", input_shape=(29, 29, 3), width_multiplier=0.1).stem == \
        "imagenet"


def test_legacy_checkpoint_names_are_renamed():
    # torchvision's published DenseNet files name `denselayer1.norm.1`; its loader renames them
    from zoo.models.densenet.densenet_convert import normalize_key

    assert normalize_key("features.denseblock1.denselayer1.norm.1.weight") == \
        "features.denseblock1.denselayer1.norm1.weight"
    assert normalize_key("features.denseblock1.denselayer1.conv.2.weight") == \
        "features.denseblock1.denselayer1.conv2.weight"
    assert normalize_key("features.transition1.norm.weight") == \
        "features.transition1.norm.weight"


@pytest.mark.parametrize("name,channels", CHANNELS)
def test_features_only_and_stage_outputs(name, channels):
    check_stage_outputs(name, channels)


@pytest.mark.parametrize("name", BUILDS)
@pytest.mark.parametrize("input_shape", STANDARD_SIZES)
def test_builds_on_standard_sizes(name, input_shape):
    check_standard_size(name, input_shape)


@pytest.mark.jax
def test_ported_densenet_equals_torchvision(tmp_path):
    check_port("densenet121", dict(depths=(2, 2, 2, 2)),
               lambda tv: tv.models.DenseNet(32, (2, 2, 2, 2), 64), "torchvision", tmp_path)
