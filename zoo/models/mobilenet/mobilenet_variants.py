"""MobileNet's named variants: one table, two builders (`MobileNetV2`, `MobileNetV3`), one
entry point per name."""

from zoo.models.mobilenet.mobilenetv2 import MobileNetV2
from zoo.models.mobilenet.mobilenetv3 import MobileNetV3
from zoo.registry import create, register

IMAGENET = {"input_shape": (224, 224, 3), "num_classes": 1000}
RE, HS = "relu", "hard_swish"


def _v3(rows, **others):
    """MobileNetV3 arguments from torchvision's table rows (kernel, expanded, out, SE,
    activation, stride): the paper's Tables 1 and 2."""
    kernels, expanded, out, se, acts, strides = zip(*rows)
    return {"filters": out, "expanded_channels": expanded, "kernel_sizes": kernels,
            "strides": strides, "squeeze_excitation": se, "activations": acts, **others,
            **IMAGENET}


#: every variant's constructor arguments (the class's defaults fill the rest)
VARIANTS = {
    # Sandler et al. 2018, Table 2 (t, c, n, s)
    "mobilenet_v2": {"filters": (16, 24, 32, 64, 96, 160, 320), "depths": (1, 2, 3, 4, 3, 3, 1),
                     "strides": (1, 2, 2, 2, 1, 2, 1), "expand_ratios": (1, 6, 6, 6, 6, 6, 6),
                     **IMAGENET},
    "mobilenet_v3_large": _v3([
        (3, 16, 16, False, RE, 1), (3, 64, 24, False, RE, 2), (3, 72, 24, False, RE, 1),
        (5, 72, 40, True, RE, 2), (5, 120, 40, True, RE, 1), (5, 120, 40, True, RE, 1),
        (3, 240, 80, False, HS, 2), (3, 200, 80, False, HS, 1), (3, 184, 80, False, HS, 1),
        (3, 184, 80, False, HS, 1), (3, 480, 112, True, HS, 1), (3, 672, 112, True, HS, 1),
        (5, 672, 160, True, HS, 2), (5, 960, 160, True, HS, 1), (5, 960, 160, True, HS, 1),
    ], head_units=1280),
    "mobilenet_v3_small": _v3([
        (3, 16, 16, True, RE, 2), (3, 72, 24, False, RE, 2), (3, 88, 24, False, RE, 1),
        (5, 96, 40, True, HS, 2), (5, 240, 40, True, HS, 1), (5, 240, 40, True, HS, 1),
        (5, 120, 48, True, HS, 1), (5, 144, 48, True, HS, 1), (5, 288, 96, True, HS, 2),
        (5, 576, 96, True, HS, 1), (5, 576, 96, True, HS, 1),
    ], head_units=1024),
}

_V3_COLUMNS = ("filters", "expanded_channels", "kernel_sizes", "strides", "squeeze_excitation",
               "activations")


def tiny_arguments(name):
    """`name` reduced for the shared model tests, at 64x64 and a quarter of the width.

    MobileNetV2: at most two blocks per group (every group's first block, which changes
    the shape, and one that adds its input back). MobileNetV3: the first block, every
    stride-2 block and the block after it (with or without expansion, squeeze-excitation,
    ReLU and hard-swish, kernels 3 and 5, residual or not, all kept)."""
    row = VARIANTS[name]
    tiny = {"width_multiplier": 0.25, "input_shape": (64, 64, 3)}
    if name == "mobilenet_v2":
        return {**tiny, "depths": tuple(min(d, 2) for d in row["depths"]), "last_filters": 64}
    strides = row["strides"]
    keep = [i for i in range(len(strides))
            if i == 0 or strides[i] > 1 or (i > 0 and strides[i - 1] > 1)]
    return {**tiny, "head_units": 128,
            **{c: tuple(row[c][i] for i in keep) for c in _V3_COLUMNS}}


@register(MobileNetV2, VARIANTS, weights=("imagenet", "ra_in1k"))
def mobilenet_v2(**kwargs):
    """MobileNetV2, torchvision's layout: 3,504,872 trainable parameters at 224x224x3."""
    return create("mobilenet_v2", **kwargs)


@register(MobileNetV3, VARIANTS, weights=("imagenet", "ra_in1k", "miil_in21k_ft_in1k"))
def mobilenet_v3_large(**kwargs):
    """MobileNetV3-Large, torchvision's layout: 5,483,032 trainable parameters at 224x224x3."""
    return create("mobilenet_v3_large", **kwargs)


@register(MobileNetV3, VARIANTS, weights=("imagenet",))
def mobilenet_v3_small(**kwargs):
    """MobileNetV3-Small, torchvision's layout: 2,542,856 trainable parameters at 224x224x3."""
    return create("mobilenet_v3_small", **kwargs)
