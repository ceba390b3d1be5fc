"""RegNet's named variants: one table, one builder (`RegNet`), one entry point per name."""

from zoo.models.regnet.regnet import RegNet
from zoo.registry import create, register

IMAGENET = {"input_shape": (224, 224, 3), "num_classes": 1000}

#: every variant's stage depths and widths and its group width: torchvision's `BlockParams`
#: from each builder's (depth, w_0, w_a, w_m, group_width), quantised and made compatible
#: with the group width (a test holds them equal); RegNetY adds squeeze-excitation 0.25
VARIANTS = {
    "regnet_x_400mf": {"depths": (1, 2, 7, 12), "filters": (32, 64, 160, 400),
                       "group_width": 16, "se_ratio": 0.0, **IMAGENET},
    "regnet_x_800mf": {"depths": (1, 3, 7, 5), "filters": (64, 128, 288, 672),
                       "group_width": 16, "se_ratio": 0.0, **IMAGENET},
    "regnet_x_1_6gf": {"depths": (2, 4, 10, 2), "filters": (72, 168, 408, 912),
                       "group_width": 24, "se_ratio": 0.0, **IMAGENET},
    "regnet_x_3_2gf": {"depths": (2, 6, 15, 2), "filters": (96, 192, 432, 1008),
                       "group_width": 48, "se_ratio": 0.0, **IMAGENET},
    "regnet_x_8gf": {"depths": (2, 5, 15, 1), "filters": (80, 240, 720, 1920),
                     "group_width": 120, "se_ratio": 0.0, **IMAGENET},
    "regnet_x_16gf": {"depths": (2, 6, 13, 1), "filters": (256, 512, 896, 2048),
                      "group_width": 128, "se_ratio": 0.0, **IMAGENET},
    "regnet_x_32gf": {"depths": (2, 7, 13, 1), "filters": (336, 672, 1344, 2520),
                      "group_width": 168, "se_ratio": 0.0, **IMAGENET},
    "regnet_y_400mf": {"depths": (1, 3, 6, 6), "filters": (48, 104, 208, 440),
                       "group_width": 8, "se_ratio": 0.25, **IMAGENET},
    "regnet_y_800mf": {"depths": (1, 3, 8, 2), "filters": (64, 144, 320, 784),
                       "group_width": 16, "se_ratio": 0.25, **IMAGENET},
    "regnet_y_1_6gf": {"depths": (2, 6, 17, 2), "filters": (48, 120, 336, 888),
                       "group_width": 24, "se_ratio": 0.25, **IMAGENET},
    "regnet_y_3_2gf": {"depths": (2, 5, 13, 1), "filters": (72, 216, 576, 1512),
                       "group_width": 24, "se_ratio": 0.25, **IMAGENET},
    "regnet_y_8gf": {"depths": (2, 4, 10, 1), "filters": (224, 448, 896, 2016),
                     "group_width": 56, "se_ratio": 0.25, **IMAGENET},
    "regnet_y_16gf": {"depths": (2, 4, 11, 1), "filters": (224, 448, 1232, 3024),
                      "group_width": 112, "se_ratio": 0.25, **IMAGENET},
    "regnet_y_32gf": {"depths": (2, 5, 12, 1), "filters": (232, 696, 1392, 3712),
                      "group_width": 232, "se_ratio": 0.25, **IMAGENET},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: its stem, grouped bottlenecks (with
    squeeze-excitation for RegNetY), projection and identity shortcuts and head at 1/8 of the
    width, one or two blocks per stage, on 32x32 images (a grouped convolution on
    TensorFlow's CPU is compiled by XLA at each eager call)."""
    return {"input_shape": (32, 32, 3), "width_multiplier": 0.125, "depths": (1, 2, 1, 1)}


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_x_400mf(**kwargs):
    """RegNetX-400MF, torchvision's layout: 5,495,976 trainable parameters at 224x224x3."""
    return create("regnet_x_400mf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_x_800mf(**kwargs):
    """RegNetX-800MF, torchvision's layout: 7,259,656 trainable parameters at 224x224x3."""
    return create("regnet_x_800mf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_x_1_6gf(**kwargs):
    """RegNetX-1.6GF, torchvision's layout: 9,190,136 trainable parameters at 224x224x3."""
    return create("regnet_x_1_6gf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_x_3_2gf(**kwargs):
    """RegNetX-3.2GF, torchvision's layout: 15,296,552 trainable parameters at 224x224x3."""
    return create("regnet_x_3_2gf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_x_8gf(**kwargs):
    """RegNetX-8GF, torchvision's layout: 39,572,648 trainable parameters at 224x224x3."""
    return create("regnet_x_8gf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_x_16gf(**kwargs):
    """RegNetX-16GF, torchvision's layout: 54,278,536 trainable parameters at 224x224x3."""
    return create("regnet_x_16gf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_x_32gf(**kwargs):
    """RegNetX-32GF, torchvision's layout: 107,811,560 trainable parameters at 224x224x3."""
    return create("regnet_x_32gf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_y_400mf(**kwargs):
    """RegNetY-400MF, torchvision's layout: 4,344,144 trainable parameters at 224x224x3."""
    return create("regnet_y_400mf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_y_800mf(**kwargs):
    """RegNetY-800MF, torchvision's layout: 6,432,512 trainable parameters at 224x224x3."""
    return create("regnet_y_800mf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_y_1_6gf(**kwargs):
    """RegNetY-1.6GF, torchvision's layout: 11,202,430 trainable parameters at 224x224x3."""
    return create("regnet_y_1_6gf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet", "ra_in1k"))
def regnet_y_3_2gf(**kwargs):
    """RegNetY-3.2GF, torchvision's layout: 19,436,338 trainable parameters at 224x224x3."""
    return create("regnet_y_3_2gf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_y_8gf(**kwargs):
    """RegNetY-8GF, torchvision's layout: 39,381,472 trainable parameters at 224x224x3."""
    return create("regnet_y_8gf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_y_16gf(**kwargs):
    """RegNetY-16GF, torchvision's layout: 83,590,140 trainable parameters at 224x224x3."""
    return create("regnet_y_16gf", **kwargs)


@register(RegNet, VARIANTS, weights=("imagenet",))
def regnet_y_32gf(**kwargs):
    """RegNetY-32GF, torchvision's layout: 145,046,770 trainable parameters at 224x224x3."""
    return create("regnet_y_32gf", **kwargs)
