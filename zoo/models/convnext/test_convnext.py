"""ConvNeXt's own tests: parameter counts against torchvision, its arguments, stochastic
depth and layer scale, feature taps, and ported weights against torchvision and timm.

The shared checks every name runs (training, `.keras` round trip) are in
tests/models/test_models_every_name.py.
"""

import keras
import numpy as np
import pytest

import zoo
from zoo.models.transformer_layers import exact_gelu
from ported_checks import check_port
from vision_checks import build_only, check_stage_outputs, trainable_count

# torchvision 0.28: sum(p.numel() for p in model.parameters()) at 224x224x3, 1000 classes
TORCHVISION_PARAMS = {"convnext_tiny": 28_589_128, "convnext_small": 50_223_688,
                      "convnext_base": 88_591_464, "convnext_large": 197_767_336}
SMALL = dict(width_multiplier=1 / 6, depths=(1, 2, 1, 1))  # widths 16, 32, 64, 128


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_trainable_params_equal_torchvision(name):
    model = build_only(name)
    assert model.expected_input_shape() == (224, 224, 3)
    assert trainable_count(model) == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("kwargs,match", [
    ({"stochastic_depth_rate": 1.0}, "stochastic_depth_rate=1.0"),
    ({"layer_scale": 0}, "layer_scale=0"),
    ({"depths": (3, 0, 9, 3)}, r"depths=\(3, 0, 9, 3\)"),
    ({"input_shape": (28, 28, 1)}, r"at least 32x32.*input_shape=\(28, 28, 1\)"),
    ({"pooling": "avg"}, "include_top=True"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_only("convnext_tiny", **kwargs)


def test_features_only_and_feature_taps():
    check_stage_outputs("convnext_tiny", [96, 192, 384, 768])


def test_stochastic_depth_rates_grow_linearly_and_are_off_in_inference():
    model = build_only("convnext_tiny")
    rates = [layer.rate for layer in model.layers if layer.name.endswith("_drop_path")]
    # torchvision: p * block_index / (blocks - 1); the first block (rate 0) has no layer
    assert len(rates) == 17 and rates == sorted(rates)
    assert rates[0] == pytest.approx(0.1 / 17) and rates[-1] == pytest.approx(0.1)
    small = zoo.create("convnext_tiny", input_shape=(32, 32, 3), num_classes=3,
                       stochastic_depth_rate=0.5, **SMALL)
    x = np.random.default_rng(0).uniform(size=(4, 32, 32, 3)).astype("float32")
    first = keras.ops.convert_to_numpy(small(x))
    np.testing.assert_array_equal(first, keras.ops.convert_to_numpy(small(x, training=False)))
    assert np.isfinite(keras.ops.convert_to_numpy(small(x, training=True))).all()


def test_layer_scale_and_layer_norm_settings():
    model = zoo.create("convnext_tiny", input_shape=(32, 32, 3), num_classes=3, **SMALL)
    scales = [w for w in model.weights if w.path.endswith("layer_scale/gamma")]
    assert len(scales) == 5
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scales[0]), np.full(16, 1e-6))
    norms = [layer for layer in model.layers
             if isinstance(layer, keras.layers.LayerNormalization)]
    assert norms and all(layer.epsilon == 1e-6 and layer.axis == [-1] for layer in norms)
    assert isinstance(model.get_layer("stage1_block0_dwconv"), keras.layers.DepthwiseConv2D)
    # the exact GELU (torch's nn.GELU), written with erf: keras's TensorFlow one uses erfc,
    # which ONNX lacks
    gelu = model.get_layer("stage1_block0_gelu")
    assert gelu.activation is exact_gelu
    x = np.linspace(-4, 4, 33).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gelu(x)), keras.ops.convert_to_numpy(
        keras.activations.gelu(x, approximate=False)), atol=1e-6)


def test_include_top_false_leaves_the_head_out():
    model = zoo.create("convnext_tiny", input_shape=(64, 64, 3), include_top=False,
                       pooling="avg", **SMALL)
    assert tuple(model.output.shape) == (None, 128)
    assert not [layer for layer in model.layers if layer.name in ("head_norm", "logits")]


# ---------------------------------------------------------------- ported weights


@pytest.mark.jax
def test_ported_convnext_equals_torchvision(tmp_path):
    def reference(tv):
        config = tv.models.convnext.CNBlockConfig
        return tv.models.convnext.ConvNeXt(
            [config(16, 32, 1), config(32, 64, 2), config(64, 128, 1), config(128, None, 1)])

    check_port("convnext_tiny", SMALL, reference, "torchvision", tmp_path)


def test_ported_convnext_equals_timm(tmp_path):
    check_port("convnext_tiny", SMALL,
               lambda timm: timm.models.convnext.ConvNeXt(depths=(1, 2, 1, 1),
                                                          dims=(16, 32, 64, 128)),
               "timm", tmp_path)
