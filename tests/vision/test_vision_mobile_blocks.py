"""The shared blocks of the mobile families (zoo/models/vision_layers.py) against torch's:
squeeze-excitation, hard-sigmoid / hard-swish, `make_divisible`, the depthwise kernel layout."""

import keras
import numpy as np
import pytest

from zoo.jobs import references
from zoo.models import vision_layers
from zoo.weights.convert import Assignment

import torch  # noqa: E402  (installed by `make install`; a skip would hide the check)
tv = references.import_torchvision()


def test_make_divisible_equals_torchvision():
    from torchvision.models._utils import _make_divisible

    for value in np.arange(1, 400, 0.7):
        for divisor in (4, 8):
            assert vision_layers.make_divisible(value, divisor) == _make_divisible(value, divisor)


@pytest.mark.parametrize("kind,module", [("hard_swish", torch.nn.Hardswish()),
                                         ("hard_sigmoid", torch.nn.Hardsigmoid()),
                                         ("silu", torch.nn.SiLU()), ("relu6", torch.nn.ReLU6())])
def test_activations_equal_torch(kind, module):
    x = np.linspace(-5, 5, 101).astype("float32")
    got = keras.ops.convert_to_numpy(vision_layers.activation_layer(kind, "act")(x))
    np.testing.assert_allclose(got, module(torch.from_numpy(x)).numpy(), atol=1e-6)


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation='gelu'"):
        vision_layers.activation_layer("gelu", "act")


@pytest.mark.parametrize("gate", ["sigmoid", "hard_sigmoid"])
def test_squeeze_excitation_equals_torchvision(gate):
    torch.manual_seed(0)
    scale = torch.nn.Sigmoid if gate == "sigmoid" else torch.nn.Hardsigmoid
    reference = tv.ops.SqueezeExcitation(12, 4, activation=torch.nn.SiLU,
                                         scale_activation=scale).eval()
    inputs = keras.Input((5, 5, 12))
    model = keras.Model(inputs, vision_layers.squeeze_excitation(
        inputs, 4, activation="silu", gate=gate, name="se"))
    for layer, module in (("se_reduce", reference.fc1), ("se_expand", reference.fc2)):
        model.get_layer(layer).set_weights([module.weight.detach().numpy().transpose(2, 3, 1, 0),
                                            module.bias.detach().numpy()])
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 12)).astype("float32")
    want = reference(torch.from_numpy(x.transpose(0, 3, 1, 2))).detach().numpy()
    np.testing.assert_allclose(model(x), want.transpose(0, 2, 3, 1), atol=1e-5)


def test_depthwise_kernels_convert_from_torch_grouped_convolutions():
    conv = torch.nn.Conv2d(6, 12, 3, groups=6, bias=False)  # depth multiplier 2
    layer = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)
    layer.build((None, 7, 7, 6))
    a = Assignment(layer.kernel, "w", "depthwise", False)
    assert a.source_shape() == tuple(conv.weight.shape)
    layer.kernel.assign(a.to_keras(conv.weight.detach().numpy()))
    x = np.random.default_rng(1).normal(size=(1, 7, 7, 6)).astype("float32")
    want = conv(torch.from_numpy(x.transpose(0, 3, 1, 2))).detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(layer(x), want, atol=1e-5)


def test_a_1x1_convolution_tensor_converts_into_a_dense_layer():
    dense = keras.layers.Dense(3)
    dense.build((None, 5))
    a = Assignment(dense.kernel, "w", "dense", True)
    w = np.arange(15, dtype="float32").reshape(3, 5, 1, 1)
    assert a.fits(w.shape) and a.fits((3, 5)) and not a.fits((3, 5, 3, 3))
    np.testing.assert_array_equal(a.to_keras(w), w[:, :, 0, 0].T)
