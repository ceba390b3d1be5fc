"""EfficientNet's named variants: one table, one builder (`EfficientNet`), one entry point per
name."""

from zoo.models.efficientnet.efficientnet import EfficientNet
from zoo.registry import create, register

# EfficientNet-B0, Tan & Le 2019, Table 1 (stages 2-8): expansion, kernel, stride, width, depth
B0 = {"filters": (16, 24, 40, 80, 112, 192, 320), "depths": (1, 2, 2, 3, 3, 4, 1),
      "strides": (1, 2, 2, 2, 1, 2, 1), "expand_ratios": (1, 6, 6, 6, 6, 6, 6),
      "kernel_sizes": (3, 3, 5, 3, 5, 5, 3), "block_types": ("mbconv",) * 7,
      "stem_filters": 32, "last_filters": None, "num_classes": 1000}
# torchvision's B5-B7 (ported from TensorFlow) and V2 use BatchNorm(eps=1e-3, momentum=0.01)
TF_BN = {"bn_epsilon": 1e-3, "bn_momentum": 0.99}


def _b(width, depth, dropout, size, **others):
    return {**B0, "width_multiplier": width, "depth_multiplier": depth, "dropout": dropout,
            "input_shape": (size, size, 3), **others}


def _v2(stages, stem, dropout, size):
    """EfficientNetV2 (Tan & Le 2021, Table 4; M and L as torchvision builds them) from rows
    (block type, expansion, kernel, stride, width, depth)."""
    types, ratios, kernels, strides, widths, depths = zip(*stages)
    return {"filters": widths, "depths": depths, "strides": strides, "expand_ratios": ratios,
            "kernel_sizes": kernels, "block_types": types, "stem_filters": stem,
            "last_filters": 1280, "dropout": dropout, "input_shape": (size, size, 3),
            "num_classes": 1000, "bn_epsilon": 1e-3}


F, M = "fused", "mbconv"

#: every variant's constructor arguments (EfficientNet's defaults fill the rest); the input
#: size is the evaluation crop of the variant's torchvision weights
VARIANTS = {
    "efficientnet_b0": _b(1.0, 1.0, 0.2, 224),
    "efficientnet_b1": _b(1.0, 1.1, 0.2, 240),
    "efficientnet_b2": _b(1.1, 1.2, 0.3, 288),
    "efficientnet_b3": _b(1.2, 1.4, 0.3, 300),
    "efficientnet_b4": _b(1.4, 1.8, 0.4, 380),
    "efficientnet_b5": _b(1.6, 2.2, 0.4, 456, **TF_BN),
    "efficientnet_b6": _b(1.8, 2.6, 0.5, 528, **TF_BN),
    "efficientnet_b7": _b(2.0, 3.1, 0.5, 600, **TF_BN),
    "efficientnet_v2_s": _v2([(F, 1, 3, 1, 24, 2), (F, 4, 3, 2, 48, 4), (F, 4, 3, 2, 64, 4),
                              (M, 4, 3, 2, 128, 6), (M, 6, 3, 1, 160, 9),
                              (M, 6, 3, 2, 256, 15)], 24, 0.2, 384),
    "efficientnet_v2_m": _v2([(F, 1, 3, 1, 24, 3), (F, 4, 3, 2, 48, 5), (F, 4, 3, 2, 80, 5),
                              (M, 4, 3, 2, 160, 7), (M, 6, 3, 1, 176, 14),
                              (M, 6, 3, 2, 304, 18), (M, 6, 3, 1, 512, 5)], 24, 0.3, 480),
    "efficientnet_v2_l": _v2([(F, 1, 3, 1, 32, 4), (F, 4, 3, 2, 64, 7), (F, 4, 3, 2, 96, 7),
                              (M, 4, 3, 2, 192, 10), (M, 6, 3, 1, 224, 19),
                              (M, 6, 3, 2, 384, 25), (M, 6, 3, 1, 640, 7)], 32, 0.4, 480),
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests, at 64x64: a quarter of the width, at most
    two blocks per stage (each stage's first block, which changes the shape, and one that
    adds its input back through stochastic depth), every block type and kernel size kept."""
    row = VARIANTS[name]
    return {"width_multiplier": 0.25, "depth_multiplier": 1.0, "input_shape": (64, 64, 3),
            "depths": tuple(min(d, 2) for d in row["depths"]),
            "last_filters": None if row["last_filters"] is None else 128}


@register(EfficientNet, VARIANTS, weights=("imagenet", "ra_in1k"))
def efficientnet_b0(**kwargs):
    """EfficientNet-B0, torchvision's layout: 5,288,548 trainable parameters."""
    return create("efficientnet_b0", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet",))
def efficientnet_b1(**kwargs):
    """EfficientNet-B1, torchvision's layout: 7,794,184 trainable parameters."""
    return create("efficientnet_b1", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet",))
def efficientnet_b2(**kwargs):
    """EfficientNet-B2, torchvision's layout: 9,109,994 trainable parameters."""
    return create("efficientnet_b2", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet", "ra2_in1k"))
def efficientnet_b3(**kwargs):
    """EfficientNet-B3, torchvision's layout: 12,233,232 trainable parameters."""
    return create("efficientnet_b3", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet", "ra2_in1k"))
def efficientnet_b4(**kwargs):
    """EfficientNet-B4, torchvision's layout: 19,341,616 trainable parameters."""
    return create("efficientnet_b4", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet",))
def efficientnet_b5(**kwargs):
    """EfficientNet-B5, torchvision's layout: 30,389,784 trainable parameters."""
    return create("efficientnet_b5", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet",))
def efficientnet_b6(**kwargs):
    """EfficientNet-B6, torchvision's layout: 43,040,704 trainable parameters."""
    return create("efficientnet_b6", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet",))
def efficientnet_b7(**kwargs):
    """EfficientNet-B7, torchvision's layout: 66,347,960 trainable parameters."""
    return create("efficientnet_b7", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet",))
def efficientnet_v2_s(**kwargs):
    """EfficientNetV2-S, torchvision's layout: 21,458,488 trainable parameters."""
    return create("efficientnet_v2_s", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet",))
def efficientnet_v2_m(**kwargs):
    """EfficientNetV2-M, torchvision's layout: 54,139,356 trainable parameters."""
    return create("efficientnet_v2_m", **kwargs)


@register(EfficientNet, VARIANTS, weights=("imagenet",))
def efficientnet_v2_l(**kwargs):
    """EfficientNetV2-L, torchvision's layout: 118,515,272 trainable parameters."""
    return create("efficientnet_v2_l", **kwargs)
