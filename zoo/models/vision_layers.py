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


def conv(filters, kernel_size, strides=1, name=None, use_bias=False):
    """A Conv2D padded like torch's `padding=kernel_size // 2`.

    Stride 1: "same" (symmetric for odd kernels). Stride > 1: explicit
    symmetric zero padding then "valid", so outputs and pixel alignment equal
    torchvision's (keras "same" would pad more at the end) and weights port.
    Returns a list of layers to apply in order.
    """
    pad = kernel_size // 2
    if strides == 1:
        return [layers.Conv2D(filters, kernel_size, padding="same", use_bias=use_bias,
                              kernel_initializer=CONV_INIT, name=name)]
    return [
        layers.ZeroPadding2D(pad, name=f"{name}_pad"),
        layers.Conv2D(filters, kernel_size, strides=strides, padding="valid", use_bias=use_bias,
                      kernel_initializer=CONV_INIT, name=name),
    ]


def batch_norm(name, epsilon=1e-5, zero_gamma=False, fast=False):
    """BatchNormalization with torch's defaults (momentum 0.1 there is 0.9 here)."""
    return BatchNormalization(momentum=0.9, epsilon=epsilon, name=name, fast_variance=fast,
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
