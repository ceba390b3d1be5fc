"""RegNet's own tests: parameter counts and stage widths against torchvision, its arguments,
feature taps, and ported weights against torchvision.

The shared checks every name runs (training, `.keras` round trip) are in
tests/models/test_models_every_name.py.
"""

import keras
import numpy as np
import pytest

import zoo
from ported_checks import check_port
from vision_checks import build_only, check_stage_outputs, trainable_count
from zoo.jobs import references
from zoo.models.regnet.regnet_variants import VARIANTS

# torchvision 0.28: sum(p.numel() for p in model.parameters()) at 224x224x3, 1000 classes
TORCHVISION_PARAMS = {
    "regnet_x_400mf": 5_495_976, "regnet_x_800mf": 7_259_656, "regnet_x_1_6gf": 9_190_136,
    "regnet_x_3_2gf": 15_296_552, "regnet_x_8gf": 39_572_648, "regnet_x_16gf": 54_278_536,
    "regnet_x_32gf": 107_811_560, "regnet_y_400mf": 4_344_144, "regnet_y_800mf": 6_432_512,
    "regnet_y_1_6gf": 11_202_430, "regnet_y_3_2gf": 19_436_338, "regnet_y_8gf": 39_381_472,
    "regnet_y_16gf": 83_590_140, "regnet_y_32gf": 145_046_770}
# a reduced RegNetY: every layer kind (stem, grouped bottleneck, squeeze-excitation,
# projection and identity shortcuts, head) at widths 16 to 64, groups of 8 channels
SMALL = dict(depths=(1, 2, 1, 1), filters=(16, 32, 48, 64), group_width=8)


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_trainable_params_equal_torchvision(name):
    model = build_only(name)
    assert model.expected_input_shape() == (224, 224, 3)
    assert trainable_count(model) == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("name", ["regnet_x_8gf", "regnet_y_400mf"])
def test_stage_widths_and_groups_equal_torchvision(name):
    """regnet_x_8gf's first stage (80 channels) has one group of 80, its others of 120."""
    reference = references.torchvision_model(name, device="meta")
    want = []
    for stage in reference.trunk_output.children():
        blocks = list(stage.children())
        conv = blocks[0].f.b[0]
        want.append((len(blocks), conv.out_channels, conv.out_channels // conv.groups))
    model = build_only(name)
    got = [(d, w, g) for d, (w, g) in zip(model.depths, model.stage_widths())]
    assert got == want
    assert VARIANTS[name]["se_ratio"] == (0.25 if hasattr(blocks[0].f, "se") else 0.0)


@pytest.mark.parametrize("kwargs,match", [
    ({"group_width": 0}, "group_width=0"),
    ({"se_ratio": -0.5}, "se_ratio=-0.5"),
    ({"stem_width": 2.5}, "stem_width=2.5"),
    ({"depths": (1, 0, 6, 6)}, r"depths=\(1, 0, 6, 6\)"),
    ({"pooling": "avg"}, "include_top=True"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_only("regnet_y_400mf", **kwargs)


def test_features_only_and_feature_taps():
    check_stage_outputs("regnet_y_400mf", [48, 104, 208, 440])


def test_regnet_x_has_no_squeeze_excitation_and_y_has():
    x = build_only("regnet_x_400mf", input_shape=(32, 32, 3))
    y = build_only("regnet_y_400mf", input_shape=(32, 32, 3))
    assert not [layer for layer in x.layers if "_se_" in layer.name]
    fc1 = y.get_layer("stage2_block0_se_fc1")  # round(0.25 x the block's input width, 48)
    assert fc1.filters == 12 and fc1.use_bias
    assert y.get_layer("stage2_block0_b_conv").groups == 104 // 8


def test_include_top_false_pooling():
    model = zoo.create("regnet_y_400mf", input_shape=(64, 64, 3), include_top=False,
                       pooling="max", width_multiplier=0.125)
    assert tuple(model(np.zeros((2, 64, 64, 3), "float32")).shape) == (2, 56)
    assert not [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


# ---------------------------------------------------------------- ported weights


def _reference(tv, se_ratio):
    regnet = tv.models.regnet
    params = regnet.BlockParams(depths=[1, 2, 1, 1], widths=[16, 32, 48, 64],
                                group_widths=[8] * 4, bottleneck_multipliers=[1.0] * 4,
                                strides=[2] * 4, se_ratio=se_ratio)
    return regnet.RegNet(params, num_classes=10)


@pytest.mark.jax
def test_ported_regnet_y_equals_torchvision(tmp_path):
    check_port("regnet_y_400mf", dict(SMALL, num_classes=10),
               lambda tv: _reference(tv, 0.25), "torchvision", tmp_path)


def test_ported_regnet_x_equals_torchvision(tmp_path):
    check_port("regnet_x_400mf", dict(SMALL, num_classes=10),
               lambda tv: _reference(tv, None), "torchvision", tmp_path)


@pytest.mark.jax
def test_ported_regnet_y_equals_timm(tmp_path):
    """timm's RegNetY (`s<s>.b<b>`, `conv1.conv`, `downsample`, `head.fc` names), reduced:
    timm's generator at depth 5 gives depths 1, 1, 2, 1 and widths 16, 32, 56, 80."""

    def reference(timm):
        regnet = timm.models.regnet
        return regnet.RegNet(regnet.RegNetCfg(depth=5, w0=16, wa=16, wm=1.5, group_size=8,
                                              se_ratio=0.25), num_classes=10)

    check_port("regnet_y_400mf", dict(depths=(1, 1, 2, 1), filters=(16, 32, 56, 80),
                                      group_width=8, num_classes=10),
               reference, "timm", tmp_path)


def test_timm_regnety_032_is_torchvisions_regnet_y_3_2gf():
    """The architecture of the `regnet_y_3_2gf.ra_in1k` entry: equal widths, depths, groups
    and parameters (its function: the parity test above, on timm's smallest RegNetY)."""
    import torch

    with torch.device("meta"):
        timm_model = references.import_timm().create_model("regnety_032")
    stages = [getattr(timm_model, f"s{i}") for i in range(1, 5)]
    args = VARIANTS["regnet_y_3_2gf"]
    assert [len(list(s.children())) for s in stages] == list(args["depths"])
    assert [s.b1.conv3.conv.out_channels for s in stages] == list(args["filters"])
    assert stages[0].b1.conv2.conv.groups == args["filters"][0] // args["group_width"]
    assert trainable_count(build_only("regnet_y_3_2gf")) == sum(
        p.numel() for p in timm_model.parameters())
