"""MobileNet's own tests: parameter counts against torchvision (at other widths too), bad
arguments, stages, ported weights against torchvision and timm (whose MobileNetV3 differs in
its BatchNorm epsilon: the parity check sees a wrong one), one epoch on Fashion-MNIST. The
shared checks are in tests/models."""

import pytest

import zoo
from mobile_checks import check_learns_fashion_mnist, check_port_fails_with
from ported_checks import check_port
from vision_checks import STANDARD_SIZES, build_only, check_stage_outputs, check_standard_size
from vision_checks import trainable_count
from zoo.jobs import references

# torchvision 0.28: sum(p.numel() for p in model.parameters()) at 224x224x3, 1000 classes
TORCHVISION_PARAMS = {"mobilenet_v2": 3_504_872, "mobilenet_v3_small": 2_542_856,
                      "mobilenet_v3_large": 5_483_032}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_trainable_params_equal_torchvision(name):
    model = build_only(name)
    assert model.expected_input_shape() == (224, 224, 3)
    assert trainable_count(model) == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("name,width", [("mobilenet_v2", 0.5), ("mobilenet_v2", 1.4),
                                        ("mobilenet_v3_large", 0.75)])
def test_width_multiplier_rounds_as_torchvision(name, width):
    reference = references.torchvision_model(name, device="meta", width_mult=width)
    expected = sum(p.numel() for p in reference.parameters())
    assert trainable_count(build_only(name, width_multiplier=width)) == expected


@pytest.mark.parametrize("name,channels", [
    ("mobilenet_v2", [16, 24, 32, 96, 1280]),
    ("mobilenet_v3_large", [16, 24, 40, 112, 960]),
    ("mobilenet_v3_small", [16, 16, 24, 48, 576]),  # its first block halves: the stem ends 1
])
def test_features_only_and_stage_outputs(name, channels):
    check_stage_outputs(name, channels)


@pytest.mark.parametrize("input_shape", STANDARD_SIZES)
def test_builds_on_standard_sizes(input_shape):
    check_standard_size("mobilenet_v3_small", input_shape)


@pytest.mark.parametrize("name,kwargs,match", [
    ("mobilenet_v2", {"depths": (1, 2)}, "depths=\\(1, 2\\)"),
    ("mobilenet_v2", {"strides": (1, 2, 2, 2, 1, 3, 1)}, "strides=\\(1, 2, 2, 2, 1, 3, 1\\)"),
    ("mobilenet_v2", {"depth_multiplier": 0}, "depth_multiplier=0"),
    ("mobilenet_v2", {"width_multiplier": -1}, "width_multiplier=-1"),
    ("mobilenet_v3_small", {"activations": ("relu",) * 10 + ("gelu",)}, "activations=.*gelu"),
    ("mobilenet_v3_small", {"squeeze_excitation": (1,) * 11}, "squeeze_excitation=\\(1,"),
    ("mobilenet_v3_small", {"kernel_sizes": (3, 5)}, "kernel_sizes=\\(3, 5\\)"),
    ("mobilenet_v3_small", {"bn_momentum": 1.5}, "bn_momentum=1.5"),
    ("mobilenet_v3_small", {"head_units": 0}, "head_units=0"),
])
def test_bad_arguments_raise(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.create(name, **kwargs)


def test_mobilenet_v3_classifier_is_torchvisions():
    """Pooling, a hard-swish Dense layer of 1280, dropout 0.2, the logits."""
    model = build_only("mobilenet_v3_large")
    hidden = model.get_layer("fc1")
    assert hidden.units == 1280 and hidden.get_config()["activation"] == "hard_silu"
    assert model.get_layer("fc1_dropout").rate == 0.2
    assert model.get_layer("block5_se_expand").get_config()["activation"] == "hard_sigmoid"
    assert model.get_layer("block5_dw_bn").epsilon == 1e-3


# ---------------------------------------------------------------- ported weights

V2_ARGS = dict(width_multiplier=0.5, depths=(1, 2, 2, 2, 1, 2, 1))


def _tv_v2(tv):
    setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1],
               [6, 160, 2, 2], [6, 320, 1, 1]]
    return tv.models.MobileNetV2(width_mult=0.5, inverted_residual_setting=setting)


def _v3_args(name, width=0.5):
    from zoo.models.mobilenet.mobilenet_variants import VARIANTS, tiny_arguments

    tiny = tiny_arguments(name)
    del tiny["input_shape"], tiny["head_units"]
    return {**tiny, "width_multiplier": width, "head_units": VARIANTS[name]["head_units"]}


def _tv_v3(name, width=0.5):
    def build(tv):
        v3 = tv.models.mobilenetv3
        args = _v3_args(name, width)
        rows, channels = [], 16
        for out, expanded, kernel, stride, se, act in zip(
                args["filters"], args["expanded_channels"], args["kernel_sizes"],
                args["strides"], args["squeeze_excitation"], args["activations"]):
            rows.append(v3.InvertedResidualConfig(channels, kernel, expanded, out, se,
                                                  "HS" if act == "hard_swish" else "RE",
                                                  stride, 1, width))
            channels = out
        last = v3.InvertedResidualConfig.adjust_channels(args["head_units"], width)
        return v3.MobileNetV3(rows, last)
    return build


@pytest.mark.jax
def test_ported_mobilenet_v3_equals_torchvision(tmp_path):
    check_port("mobilenet_v3_large", _v3_args("mobilenet_v3_large"),
               _tv_v3("mobilenet_v3_large"), "torchvision", tmp_path)


def test_ported_mobilenet_v2_and_v3_small_equal_torchvision(tmp_path):
    (tmp_path / "v2").mkdir(), (tmp_path / "v3").mkdir()
    check_port("mobilenet_v2", V2_ARGS, _tv_v2, "torchvision", tmp_path / "v2")
    check_port("mobilenet_v3_small", _v3_args("mobilenet_v3_small"),
               _tv_v3("mobilenet_v3_small"), "torchvision", tmp_path / "v3")


def test_a_wrong_batch_norm_epsilon_fails_the_parity_check(tmp_path):
    check_port_fails_with("mobilenet_v3_small", _v3_args("mobilenet_v3_small"),
                          _tv_v3("mobilenet_v3_small"), tmp_path, bn_epsilon=1e-5)


def test_ported_mobilenet_v3_large_equals_timm(tmp_path):
    """timm's `mobilenetv3_large_100`: torch's default BatchNorm, the head's Dense layer as a
    1x1 convolution, blocks grouped by width; the full network."""
    check_port("mobilenet_v3_large", {"bn_epsilon": 1e-5},
               lambda timm: timm.create_model("mobilenetv3_large_100"), "timm", tmp_path)


# ---------------------------------------------------------------- training


@pytest.mark.jax
@pytest.mark.torch
def test_smallest_variant_learns_fashion_mnist():
    check_learns_fashion_mnist("mobilenet_v3_small")
