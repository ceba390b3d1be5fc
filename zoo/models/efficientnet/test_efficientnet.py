"""EfficientNet's own tests: parameter counts against torchvision, bad arguments, stages,
ported weights against torchvision (V1's MBConv, V2's fused MBConv) and timm, stochastic
depth (off in inference, seeded in training), one epoch on Fashion-MNIST. The shared
checks are in tests/models."""

import functools
import math

import keras
import numpy as np
import pytest

import zoo
from mobile_checks import check_learns_fashion_mnist, check_port_fails_with
from ported_checks import check_port
from vision_checks import build_only, check_stage_outputs, trainable_count
from zoo.models.efficientnet.efficientnet_variants import VARIANTS
from zoo.models.vision_layers import make_divisible

# torchvision 0.28: sum(p.numel() for p in model.parameters()), 1000 classes
TORCHVISION_PARAMS = {
    "efficientnet_b0": 5_288_548, "efficientnet_b1": 7_794_184, "efficientnet_b2": 9_109_994,
    "efficientnet_b3": 12_233_232, "efficientnet_b4": 19_341_616,
    "efficientnet_b5": 30_389_784, "efficientnet_b6": 43_040_704,
    "efficientnet_b7": 66_347_960, "efficientnet_v2_s": 21_458_488,
    "efficientnet_v2_m": 54_139_356, "efficientnet_v2_l": 118_515_272,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_trainable_params_equal_torchvision(name):
    model = build_only(name)
    assert trainable_count(model) == TORCHVISION_PARAMS[name]
    assert model.get_layer("stem_bn").epsilon == (1e-3 if name >= "efficientnet_b5" else 1e-5)


@pytest.mark.parametrize("name,channels", [
    ("efficientnet_b0", [16, 24, 40, 112, 1280]),
    ("efficientnet_v2_s", [24, 48, 64, 160, 1280]),
])
def test_features_only_and_stage_outputs(name, channels):
    check_stage_outputs(name, channels)


@pytest.mark.parametrize("kwargs,match", [
    ({"depths": (1, 2)}, "depths=\\(1, 2\\)"),
    ({"strides": (1, 2, 2, 2, 1, 3, 1)}, "strides=\\(1, 2, 2, 2, 1, 3, 1\\)"),
    ({"block_types": ("mbconv",) * 6 + ("dense",)}, "block_types=.*dense"),
    ({"block_types": ("fused",) * 3}, "block_types=\\('fused', 'fused', 'fused'\\)"),
    ({"depth_multiplier": 0}, "depth_multiplier=0"),
    ({"se_ratio": 1.5}, "se_ratio=1.5"),
    ({"stochastic_depth_rate": 1.0}, "stochastic_depth_rate=1.0"),
    ({"bn_epsilon": -1}, "bn_epsilon=-1"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.create("efficientnet_b0", **kwargs)


def test_stochastic_depth_is_off_in_inference_and_seeded_in_training():
    """Block `i` of `n` drops its branch at `rate * i / n` (torchvision's rule), whole
    examples at a time; inference is deterministic, training draws from a seeded generator."""
    model = zoo.create("efficientnet_b0", input_shape=(32, 32, 3), num_classes=3,
                       width_multiplier=0.25, depths=(1, 2, 1, 1, 1, 1, 1),
                       stochastic_depth_rate=0.5, dropout=0.0)
    total = sum(model.stage_depths())
    assert model.get_layer("block2_1_drop").rate == pytest.approx(0.5 * 2 / total)
    assert model.get_layer("block2_1_drop").noise_shape == (None, 1, 1, 1)
    x = np.random.default_rng(0).uniform(size=(8, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x, training=False)),
                                  keras.ops.convert_to_numpy(model(x, training=False)))
    tap = keras.Model(model.input, [model.get_layer("block2_1_drop").input,
                                    model.get_layer("block2_1_drop").output])
    branch, dropped = (keras.ops.convert_to_numpy(t) for t in tap(x, training=True))
    per_example = np.abs(dropped).reshape(8, -1).max(axis=1)
    kept = per_example > 0
    np.testing.assert_allclose(dropped[kept], branch[kept] / (1 - 0.5 * 2 / total), rtol=1e-5)


# ---------------------------------------------------------------- ported weights


def _reference_settings(tv, model):
    """torchvision's stage configurations of the zoo `model`'s resolved widths and depths."""
    e = tv.models.efficientnet
    settings, channels = [], model.width(model.stem_filters)
    for s, depth in enumerate(model.stage_depths()):
        out = model.width(model.filters[s])
        row = (model.expand_ratios[s], model.kernel_sizes[s], model.strides[s], channels, out,
               depth)
        settings.append(e.FusedMBConvConfig(*row) if model.block_types[s] == "fused"
                        else e.MBConvConfig(*row, 1.0, 1.0))
        channels = out
    return settings


def _tv_efficientnet(name, zoo_args):
    """A torchvision EfficientNet of `name`'s layout at `zoo_args`' widths and depths."""
    def build(tv):
        import torch

        model = build_only(name, **zoo_args)
        last = model.get_layer("last_conv").filters
        norm = functools.partial(torch.nn.BatchNorm2d, eps=model.bn_epsilon)
        return tv.models.efficientnet.EfficientNet(
            _reference_settings(tv, model), model.dropout, last_channel=last, norm_layer=norm)
    return build


B0_ARGS = dict(width_multiplier=0.25, depths=(1, 2, 1, 1, 1, 2, 1))
V2_ARGS = dict(width_multiplier=0.25, depths=(2, 2, 1, 2, 1, 1), last_filters=256)


@pytest.mark.jax
def test_ported_efficientnet_v1_and_v2_equal_torchvision(tmp_path):
    """V1 (MBConv without and with expansion, squeeze-excitation, residuals) and V2 (fused
    MBConv without and with expansion, then MBConv), BatchNorm epsilon 1e-3."""
    (tmp_path / "v1").mkdir(), (tmp_path / "v2").mkdir()
    check_port("efficientnet_b0", B0_ARGS, _tv_efficientnet("efficientnet_b0", B0_ARGS),
               "torchvision", tmp_path / "v1")
    check_port("efficientnet_v2_s", V2_ARGS, _tv_efficientnet("efficientnet_v2_s", V2_ARGS),
               "torchvision", tmp_path / "v2")


def test_a_wrong_batch_norm_epsilon_fails_the_parity_check(tmp_path):
    check_port_fails_with("efficientnet_v2_s", V2_ARGS,
                          _tv_efficientnet("efficientnet_v2_s", V2_ARGS), tmp_path,
                          bn_epsilon=1e-5)


def test_ported_efficientnet_b0_equals_timm(tmp_path):
    """timm's `efficientnet_b0` layout (DepthwiseSeparableConv, InvertedResidual, SqueezeExcite
    names) at a quarter of the width and half the depth, rounded up as timm rounds."""
    def build(timm):
        from timm.models.efficientnet import _gen_efficientnet

        return _gen_efficientnet("efficientnet_b0", channel_multiplier=0.25,
                                 depth_multiplier=0.5)
    depths = tuple(math.ceil(d / 2) for d in VARIANTS["efficientnet_b0"]["depths"])
    assert make_divisible(1280 * 0.25) == 4 * make_divisible(320 * 0.25)  # timm's head width
    check_port("efficientnet_b0", dict(width_multiplier=0.25, depths=depths), build, "timm",
               tmp_path)


# ---------------------------------------------------------------- training


@pytest.mark.jax
@pytest.mark.torch
def test_smallest_variant_learns_fashion_mnist():
    # B0's full depths at half depth and width: the tiny widths learn too slowly in 8 steps,
    # and this one needs 24 (from torchvision's initialisation its loss starts above ln 10)
    check_learns_fashion_mnist("efficientnet_b0", examples=768,
                               width_multiplier=0.5, depth_multiplier=0.5,
                               depths=VARIANTS["efficientnet_b0"]["depths"])
