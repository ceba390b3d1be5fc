"""ResNet's own tests: parameter counts against torchvision and the paper, its arguments,
layer names, feature taps, and ported weights against torchvision and timm.

The shared checks every name runs (training, `.keras` round trip) are in
tests/models/test_models_every_name.py.
"""

import keras
import numpy as np
import pytest

import zoo
from ported_checks import check_port
from vision_checks import STANDARD_SIZES, build_only, check_stage_outputs, check_standard_size
from vision_checks import check_trainable_params, trainable_count
from zoo import compat

# torchvision 0.29: sum(p.numel() for p in model.parameters()) at 224x224x3, 1000 classes
TORCHVISION_PARAMS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
                      "resnet101": 44_549_160, "resnet152": 60_192_808,
                      "resnext50_32x4d": 25_028_904, "resnext101_32x8d": 88_791_336,
                      "resnext101_64x4d": 83_455_272, "wide_resnet50_2": 68_883_240,
                      "wide_resnet101_2": 126_886_696}
# He et al. 2016 option-A CIFAR ResNets (Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M),
# at 32x32x3, 10 classes
PAPER_PARAMS = {"resnet20": (269_722, 0.27e6), "resnet32": (464_154, 0.46e6),
                "resnet44": (658_586, 0.66e6), "resnet56": (853_018, 0.85e6),
                "resnet110": (1_727_962, 1.7e6)}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_trainable_params_equal_torchvision(name):
    check_trainable_params(name, TORCHVISION_PARAMS[name])


@pytest.mark.parametrize("name", sorted(PAPER_PARAMS))
def test_cifar_params_match_the_paper(name):
    model = build_only(name)
    assert model.expected_input_shape() == (32, 32, 3)
    exact, paper = PAPER_PARAMS[name]
    assert trainable_count(model) == exact
    assert abs(exact - paper) / paper < 0.04


def test_option_a_shortcuts_have_no_parameters():
    assert not [w.path for w in build_only("resnet20").weights if "downsample" in w.path]
    projection = build_only("resnet20", shortcut="projection")
    assert [w for w in projection.weights if "downsample" in w.path]


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnet20"])
@pytest.mark.parametrize("input_shape", STANDARD_SIZES)
def test_builds_on_standard_sizes(name, input_shape):
    check_standard_size(name, input_shape)


@pytest.mark.parametrize("kwargs,match", [
    ({"width_multiplier": 0}, "width_multiplier=0"),
    ({"width_multiplier": "big"}, "width_multiplier='big'"),
    ({"filters": (16, 32)}, "filters=\\(16, 32\\)"),
    ({"dropout": 1.5}, "dropout=1.5"),
    ({"pooling": "sum", "include_top": False}, "pooling='sum'"),
    ({"pooling": "avg"}, "include_top=True"),
    ({"input_shape": (32, 32)}, "input_shape=\\(32, 32\\)"),
    ({"stem": "tiny"}, "stem='tiny'"),
    ({"shortcut": "C"}, "shortcut='C'"),
    ({"features_only": 1}, "features_only=1"),
    ({"groups": 0, "block": "bottleneck"}, "groups=0"),
    ({"width_per_group": 2.5, "block": "bottleneck"}, "width_per_group=2.5"),
    ({"groups": 32}, "groups=32, width_per_group=64 with block='basic'"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.create("resnet20", **kwargs)


def test_constructor_arguments_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        zoo.models.resnet.ResNet((32, 32, 3), 10)


@pytest.mark.parametrize("name,channels", [("resnet18", [64, 128, 256, 512]),
                                           ("resnet50", [256, 512, 1024, 2048]),
                                           ("resnet20", [16, 32, 64])])
def test_features_only_and_feature_taps(name, channels):
    check_stage_outputs(name, channels)


@pytest.mark.parametrize("pooling,shape", [(None, (2, 2, 2, 16)), ("avg", (2, 16)),
                                           ("max", (2, 16))])
def test_include_top_false_pooling(pooling, shape):
    model = zoo.create("resnet18", input_shape=(64, 64, 3), include_top=False, pooling=pooling,
                       width_multiplier=1 / 32)
    assert tuple(model(np.zeros((2, 64, 64, 3), "float32")).shape) == shape
    assert not [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_filters_and_width_multiplier():
    model = build_only("resnet20", filters=(8, 16, 24), width_multiplier=2.0)
    kernels = {w.path.split("/")[-2]: w.shape for w in model.weights if w.path.endswith("kernel")}
    assert kernels["stem_conv"][-1] == 16
    assert kernels["stage3_block2_conv2"][-1] == 48


def test_layer_names_are_deterministic_and_unique():
    def paths():
        return [w.path for w in build_only("resnet50").weights]

    first = paths()
    assert len(set(first)) == len(first)
    assert first == paths()
    layer_names = {p.split("/")[-2] for p in first}
    assert {"stem_conv", "stage1_block0_conv1", "stage4_block2_bn3",
            "stage2_block0_downsample_conv", "logits"} <= layer_names


def test_fast_batch_norm_matches_keras_batch_norm():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(16, 8, 8, 4)).astype("float32")
    args = {"input_shape": (8, 8, 4), "num_classes": 5, "width_multiplier": 0.25}
    plain = zoo.create("resnet20", **args)
    fast = zoo.create("resnet20", fast_batch_norm=True, **args)
    fast.set_weights(plain.get_weights())
    np.testing.assert_allclose(fast(x, training=True), plain(x, training=True), atol=1e-4)
    for a, b in zip(fast.get_weights(), plain.get_weights()):  # moving statistics too
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert any(getattr(layer, "fast_variance", False) for layer in compat.nested_layers(fast))


# ---------------------------------------------------------------- ported weights


@pytest.mark.jax
def test_ported_resnet18_equals_torchvision(tmp_path):
    check_port("resnet18", {}, lambda tv: tv.models.resnet18(weights=None), "torchvision",
               tmp_path)


@pytest.mark.jax
def test_ported_bottleneck_resnet_equals_torchvision(tmp_path):
    check_port("resnet50", dict(depths=(1, 2, 1, 1)),
               lambda tv: tv.models.resnet.ResNet(tv.models.resnet.Bottleneck, [1, 2, 1, 1]),
               "torchvision", tmp_path)


def test_resnext_and_wide_bottlenecks():
    """ResNeXt's grouped 3x3 convolution, Wide ResNet's doubled bottleneck (torchvision's
    `int(planes * width_per_group / 64) * groups`)."""
    kernels = {}
    for name in ("resnext50_32x4d", "wide_resnet50_2", "resnet50"):
        model = build_only(name)
        kernels[name] = {w.path.split("/")[-2]: tuple(w.shape) for w in model.weights
                         if w.path.endswith("kernel")}
    assert kernels["resnext50_32x4d"]["stage1_block0_conv2"] == (3, 3, 4, 128)
    assert kernels["resnext50_32x4d"]["stage4_block0_conv3"] == (1, 1, 1024, 2048)
    assert kernels["wide_resnet50_2"]["stage1_block0_conv2"] == (3, 3, 128, 128)
    assert kernels["resnet50"]["stage1_block0_conv2"] == (3, 3, 64, 64)


@pytest.mark.jax
def test_ported_resnext_equals_torchvision(tmp_path):
    check_port("resnext50_32x4d", dict(depths=(1, 1, 1, 1)),
               lambda tv: tv.models.resnet.ResNet(tv.models.resnet.Bottleneck, [1, 1, 1, 1],
                                                  groups=32, width_per_group=4),
               "torchvision", tmp_path)


@pytest.mark.jax
def test_ported_resnet50_equals_timm(tmp_path):
    check_port("resnet50", dict(depths=(1, 1, 1, 1)),
               lambda timm: timm.models.resnet.ResNet(block=timm.models.resnet.Bottleneck,
                                                      layers=[1, 1, 1, 1]),
               "timm", tmp_path)
