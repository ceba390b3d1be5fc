"""VGG's named variants: one table, one builder (`VGG`), one entry point per name."""

from zoo.models.vgg.vgg import VGG
from zoo.registry import create, register

IMAGENET = {"input_shape": (224, 224, 3), "num_classes": 1000}
DEPTHS = {"vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2), "vgg16": (2, 2, 3, 3, 3),
          "vgg19": (2, 2, 4, 4, 4)}

#: every variant's constructor arguments (VGG's defaults fill the rest)
VARIANTS = {
    **{name: {"depths": d, **IMAGENET} for name, d in DEPTHS.items()},
    **{f"{name}_bn": {"depths": d, "batch_norm": True, **IMAGENET} for name, d in DEPTHS.items()},
    # a CIFAR-100 network: five units of two 3x3 convs, Dense 256-128
    "vgg13_cifar": {"depths": (2, 2, 2, 2, 2), "head_units": (256, 128), "dropout": 0.0,
                    "head_pool_size": None, "input_shape": (32, 32, 3), "num_classes": 100},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: an eighth of the width, no dropout, the
    adaptive pool at 2x2 (49 copies of a 1x1 map make 3 steps of Adam overshoot)."""
    return {"width_multiplier": 0.125, "dropout": 0.0, "head_pool_size": (2, 2)}


@register(VGG, VARIANTS, weights=("imagenet",))
def vgg11(**kwargs):
    """VGG-11, torchvision's layout: 132,863,336 trainable parameters at 224x224x3."""
    return create("vgg11", **kwargs)


@register(VGG, VARIANTS, weights=("imagenet",))
def vgg11_bn(**kwargs):
    """VGG-11 with BatchNorm, torchvision's layout: 132,868,840 trainable parameters."""
    return create("vgg11_bn", **kwargs)


@register(VGG, VARIANTS, weights=("imagenet",))
def vgg13(**kwargs):
    """VGG-13, torchvision's layout: 133,047,848 trainable parameters at 224x224x3."""
    return create("vgg13", **kwargs)


@register(VGG, VARIANTS, weights=("imagenet",))
def vgg13_bn(**kwargs):
    """VGG-13 with BatchNorm, torchvision's layout: 133,053,736 trainable parameters."""
    return create("vgg13_bn", **kwargs)


@register(VGG, VARIANTS, weights=("imagenet",))
def vgg16(**kwargs):
    """VGG-16, torchvision's layout: 138,357,544 trainable parameters at 224x224x3."""
    return create("vgg16", **kwargs)


@register(VGG, VARIANTS, weights=("imagenet",))
def vgg16_bn(**kwargs):
    """VGG-16 with BatchNorm, torchvision's layout: 138,365,992 trainable parameters."""
    return create("vgg16_bn", **kwargs)


@register(VGG, VARIANTS, weights=("imagenet",))
def vgg19(**kwargs):
    """VGG-19, torchvision's layout: 143,667,240 trainable parameters at 224x224x3."""
    return create("vgg19", **kwargs)


@register(VGG, VARIANTS, weights=("imagenet",))
def vgg19_bn(**kwargs):
    """VGG-19 with BatchNorm, torchvision's layout: 143,678,248 trainable parameters."""
    return create("vgg19_bn", **kwargs)


@register(VGG, VARIANTS)
def vgg13_cifar(**kwargs):
    """A CIFAR-100 VGG-13: Dense 256-128 head, 9,582,116 parameters at 32x32x3."""
    return create("vgg13_cifar", **kwargs)
