"""Building blocks the vision families share: torch-aligned convolutions, BN, checks, sizes.

Functions, not classes: each returns keras layers (or checks an argument), so a
family's graph reads as a list of named layers.
"""

from keras import layers

from zoo.errors import UserValueError
from zoo.models.batch_normalization import BatchNormalization
from zoo.utils.checks import check_choice, check_widths

#: torchvision's `kaiming_normal_(mode="fan_out", nonlinearity="relu")` for convolutions
CONV_INIT = {"class_name": "VarianceScaling",
             "config": {"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"}}

STEMS = (None, "imagenet", "small")
POOLINGS = (None, "avg", "max")
AUGMENTATIONS = (None, "flip", "translate", "flip_translate")


def check_multiplier(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise UserValueError(
            f"`width_multiplier` must be a number > 0. Received: width_multiplier={value!r}"
        )
    return float(value)


def check_depths(name, depths, length):
    depths = check_widths(name, depths, allow_empty=False)
    if length is not None and len(depths) != length:
        raise UserValueError(
            f"`{name}` must hold {length} ints > 0, one per stage. Received: {name}={depths!r}"
        )
    return depths


def check_strides(strides, length, name="strides"):
    """Per-stage (or per-block) strides: `length` values (None: any number), each 1 or 2."""
    values = check_depths(name, strides, length)
    if any(s not in (1, 2) for s in values):
        raise UserValueError(f"`{name}` must hold strides 1 or 2. Received: {name}={strides!r}")
    return values


def check_pool_size(name, value):
    """None, or (height, width) of positive ints."""
    if value is None:
        return None
    size = check_widths(name, value, allow_empty=False)
    if len(size) != 2:
        raise UserValueError(
            f"`{name}` must be None or (height, width). "
            f"Received: {name}={value!r}"
        )
    return size


def check_stem(stem, input_shape, min_sizes, family):
    """Resolves `stem=None` and raises when the input is below the stem's minimum.

    `min_sizes`: {stem: smallest spatial size it supports}. None picks
    "imagenet" when the input is at least its minimum, else "small".
    """
    check_choice("stem", stem, STEMS)
    size = min(input_shape[:2])
    if stem is None:
        stem = "imagenet" if size >= min_sizes["imagenet"] else "small"
    if size < min_sizes[stem]:
        other = "" if stem == "small" else (
            f" Pass stem='small' (inputs from {min_sizes['small']}x{min_sizes['small']}) "
            "or stem=None to choose by input size."
        )
        raise UserValueError(
            f"{family} with stem={stem!r} needs inputs of at least "
            f"{min_sizes[stem]}x{min_sizes[stem]}.{other} Received: input_shape={input_shape}"
        )
    return stem


def check_min_size(input_shape, minimum, family):
    if min(input_shape[:2]) < minimum:
        raise UserValueError(f"{family} needs inputs of at least {minimum}x{minimum}. "
                             f"Received: input_shape={input_shape}")


def scale(width, multiplier):
    """`width * multiplier`, rounded, at least 1."""
    return max(1, int(round(width * multiplier)))


def spatial_size(size, ops_list):
    """Output size of one spatial dimension after `[(kernel, stride, pad), ...]`.

    `pad` is the total padding (torch's `2 * padding`), or "same" (output
    `ceil(size / stride)`). Returns 0 once a window no longer fits.
    """
    for kernel, stride, pad in ops_list:
        if pad == "same":
            size = -(-size // stride)
        else:
            size = (size + pad - kernel) // stride + 1
        if size < 1:
            return 0
    return size


def min_input_size(ops_list, limit=4096):
    """Smallest spatial size for which every op in `ops_list` still has an output."""
    for size in range(1, limit):
        if spatial_size(size, ops_list) >= 1:
            return size
    raise ValueError(f"no input size up to {limit} fits")  # pragma: no cover


def make_divisible(value, divisor=8, min_value=None):
    """`value` rounded to the nearest multiple of `divisor` (at least `min_value`, default
    `divisor`), never more than 10% below `value`: TF-slim's and torchvision's
    `_make_divisible`, which MobileNet and EfficientNet widths go through."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


#: activation names of the mobile families -> keras activations (torch's equivalents):
#: "hard_sigmoid" is relu6(x + 3) / 6 (torch's `Hardsigmoid`), "hard_swish" x times it
#: (torch's `Hardswish`, keras's `hard_silu`), "silu" torch's `SiLU` (swish)
ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "hard_sigmoid": "hard_sigmoid",
               "hard_swish": "hard_silu", "silu": "silu", "sigmoid": "sigmoid"}


def activation_layer(kind, name):
    """The keras layer of activation `kind` (a key of `ACTIVATIONS`), named `name`.

    keras's own functions: `hard_silu` and `hard_sigmoid` equal torch's `Hardswish` and
    `Hardsigmoid` (relu6(x + 3) / 6), on every backend."""
    check_choice("activation", kind, tuple(ACTIVATIONS))
    return layers.Activation(ACTIVATIONS[kind], name=name)


def squeeze_excitation(x, squeeze_channels, *, activation="relu", gate="sigmoid", name):
    """Squeeze-and-excitation (Hu et al. 2018, arXiv:1709.01507): `x` times a per-channel gate.

    The gate: the mean over height and width (kept as a 1x1 map), a 1x1 convolution to
    `squeeze_channels` with bias and `activation`, a 1x1 convolution back to the input's
    channels with bias and `gate` ("sigmoid" in EfficientNet, "hard_sigmoid" in
    MobileNetV3). torchvision's `SqueezeExcitation` (`fc1`, `fc2`) and timm's
    `SqueezeExcite` (`conv_reduce`, `conv_expand`) are `f"{name}_reduce"` and
    `f"{name}_expand"` here.

    Example:

    ```python
    y = squeeze_excitation(x, 8, activation="silu", name="block2_0_se")
    ```
    """
    channels = x.shape[-1]
    s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_pool")(x)
    s = layers.Conv2D(squeeze_channels, 1, activation=ACTIVATIONS[activation],
                      kernel_initializer=CONV_INIT, name=f"{name}_reduce")(s)
    s = layers.Conv2D(channels, 1, activation=ACTIVATIONS[gate], kernel_initializer=CONV_INIT,
                      name=f"{name}_expand")(s)
    return layers.Multiply(name=f"{name}_scale")([x, s])


def conv(filters, kernel_size, strides=1, name=None, use_bias=False, groups=1):
    """A Conv2D padded like torch's `padding=kernel_size // 2` (`groups`: grouped convolution).

    Stride 1: "same" (symmetric for odd kernels). Stride > 1: explicit
    symmetric zero padding then "valid", so outputs and pixel alignment equal
    torchvision's (keras "same" would pad more at the end) and weights port.
    Returns a list of layers to apply in order.
    """
    pad = kernel_size // 2
    if strides == 1:
        return [layers.Conv2D(filters, kernel_size, padding="same", use_bias=use_bias,
                              groups=groups, kernel_initializer=CONV_INIT, name=name)]
    return [
        layers.ZeroPadding2D(pad, name=f"{name}_pad"),
        layers.Conv2D(filters, kernel_size, strides=strides, padding="valid", use_bias=use_bias,
                      groups=groups, kernel_initializer=CONV_INIT, name=name),
    ]


def depthwise_conv(kernel_size, strides=1, name=None):
    """A DepthwiseConv2D (no bias) padded like torch's `padding=kernel_size // 2`, as `conv`.

    Initialised as torchvision initialises it (`kaiming_normal_(mode="fan_out")` counts
    the channels times the window, which is keras's fan-in of a depthwise kernel).
    Returns a list of layers to apply in order.
    """
    init = {**CONV_INIT, "config": {**CONV_INIT["config"], "mode": "fan_in"}}
    if strides == 1:
        return [layers.DepthwiseConv2D(kernel_size, padding="same", use_bias=False,
                                       depthwise_initializer=init, name=name)]
    return [
        layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad"),
        layers.DepthwiseConv2D(kernel_size, strides=strides, padding="valid", use_bias=False,
                               depthwise_initializer=init, name=name),
    ]


def batch_norm(name, epsilon=1e-5, zero_gamma=False, fast=False, momentum=0.9):
    """BatchNormalization with torch's defaults (momentum 0.1 there is 0.9 here)."""
    return BatchNormalization(momentum=momentum, epsilon=epsilon, name=name, fast_variance=fast,
                              gamma_initializer="zeros" if zero_gamma else "ones")


def chain(sequence, x):
    """Applies a list of layers in order (in a functional graph: `training` flows by itself)."""
    for layer in sequence:
        x = layer(x)
    return x


def stage_output(x, index):
    """Names the output of stage `index` (from 1): an identity layer `f"stage{index}"`, the
    model's feature tap (`model.get_layer("stage2").output`)."""
    return layers.Identity(name=f"stage{index}")(x)


def augmentation_layers(augment):
    """Training-only augmentation at the model's input (identity at inference).

    "flip": random horizontal flips; "translate": random shifts of up to 1/8
    of the image side (zero fill, nearest pixel), as the usual pad-4-and-crop
    of 32x32 CIFAR images; "flip_translate": both.
    """
    check_choice("augment", augment, AUGMENTATIONS)
    out = []
    if augment in ("flip", "flip_translate"):
        out.append(layers.RandomFlip("horizontal", name="augment_flip"))
    if augment in ("translate", "flip_translate"):
        out.append(layers.RandomTranslation(0.125, 0.125, fill_mode="constant",
                                            interpolation="nearest", name="augment_translate"))
    return out


def inverted_residual(x, out_channels, *, expanded_channels, kernel_size=3, strides=1,
                      activation="relu6", se_channels=None, se_activation="relu",
                      se_gate="sigmoid", fused=False, drop_rate=0.0, bn_epsilon=1e-5,
                      bn_momentum=0.9, name):
    """The inverted residual block of MobileNetV2/V3 and EfficientNet (MBConv, fused MBConv).

    MBConv: a 1x1 expansion to `expanded_channels` (left out when that is the input's
    width) + BN + `activation`, a depthwise `kernel_size` convolution with `strides` + BN +
    `activation`, squeeze-excitation (when `se_channels`), a linear 1x1 projection to
    `out_channels` + BN. Fused MBConv (`fused=True`, EfficientNetV2): the expansion and
    the depthwise convolution are one `kernel_size` convolution (with `strides`); without
    expansion it projects to `out_channels` directly, with its activation. The input is
    added back when the shapes agree (stride 1, same width), after stochastic depth at
    `drop_rate` (training only: whole examples of the branch dropped, the kept ones
    scaled by 1 / (1 - rate), as torchvision's `StochasticDepth(rate, "row")`).

    Layers: `f"{name}_expand_conv"`/`_expand_bn`, `_dwconv`/`_dw_bn`, `_se_reduce`/
    `_se_expand`, `_project_conv`/`_project_bn`; each family's conversion rules map them
    to torchvision's and timm's module names.
    """
    in_channels = x.shape[-1]
    expand = expanded_channels != in_channels

    def conv_bn(y, filters, kernel, stride, part, act):
        y = chain([*conv(filters, kernel, stride, name=f"{name}_{part}_conv"),
                   batch_norm(f"{name}_{part}_bn", bn_epsilon, momentum=bn_momentum)], y)
        return activation_layer(act, f"{name}_{part}_act")(y) if act else y

    y = x
    if fused:
        if expand:
            y = conv_bn(y, expanded_channels, kernel_size, strides, "expand", activation)
            y = conv_bn(y, out_channels, 1, 1, "project", None)
        else:
            y = conv_bn(y, out_channels, kernel_size, strides, "project", activation)
    else:
        if expand:
            y = conv_bn(y, expanded_channels, 1, 1, "expand", activation)
        y = chain([*depthwise_conv(kernel_size, strides, name=f"{name}_dwconv"),
                   batch_norm(f"{name}_dw_bn", bn_epsilon, momentum=bn_momentum),
                   activation_layer(activation, f"{name}_dw_act")], y)
        if se_channels:
            y = squeeze_excitation(y, se_channels, activation=se_activation, gate=se_gate,
                                   name=f"{name}_se")
        y = conv_bn(y, out_channels, 1, 1, "project", None)
    if strides != 1 or in_channels != out_channels:
        return y
    if drop_rate:
        y = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(y)
    return layers.Add(name=f"{name}_add")([y, x])
