"""ResNet's named variants: one table, one builder (`ResNet`), one entry point per name."""

from zoo.models.resnet.resnet import ResNet
from zoo.registry import create, register

IMAGENET = {"input_shape": (224, 224, 3), "num_classes": 1000}
# He et al. 2016, sec. 4.2: 6n+2 layers, stages of 16/32/64 filters, option-A shortcuts
CIFAR = {"block": "basic", "filters": (16, 32, 64), "stem": "small", "shortcut": "padding",
         "input_shape": (32, 32, 3), "num_classes": 10}

#: every variant's constructor arguments (ResNet's defaults fill the rest)
VARIANTS = {
    "resnet18": {"block": "basic", "depths": (2, 2, 2, 2), **IMAGENET},
    "resnet34": {"block": "basic", "depths": (3, 4, 6, 3), **IMAGENET},
    "resnet50": {"block": "bottleneck", "depths": (3, 4, 6, 3), **IMAGENET},
    "resnet101": {"block": "bottleneck", "depths": (3, 4, 23, 3), **IMAGENET},
    "resnet152": {"block": "bottleneck", "depths": (3, 8, 36, 3), **IMAGENET},
    "resnext50_32x4d": {"block": "bottleneck", "depths": (3, 4, 6, 3), "groups": 32,
                        "width_per_group": 4, **IMAGENET},
    "resnext101_32x8d": {"block": "bottleneck", "depths": (3, 4, 23, 3), "groups": 32,
                         "width_per_group": 8, **IMAGENET},
    "resnext101_64x4d": {"block": "bottleneck", "depths": (3, 4, 23, 3), "groups": 64,
                         "width_per_group": 4, **IMAGENET},
    "wide_resnet50_2": {"block": "bottleneck", "depths": (3, 4, 6, 3), "width_per_group": 128,
                        **IMAGENET},
    "wide_resnet101_2": {"block": "bottleneck", "depths": (3, 4, 23, 3), "width_per_group": 128,
                         **IMAGENET},
    "resnet20": {"depths": (3, 3, 3), **CIFAR},
    "resnet32": {"depths": (5, 5, 5), **CIFAR},
    "resnet44": {"depths": (7, 7, 7), **CIFAR},
    "resnet56": {"depths": (9, 9, 9), **CIFAR},
    "resnet110": {"depths": (18, 18, 18), **CIFAR},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: its own block type, stem, shortcuts and
    head, at a quarter of the width and at most two blocks per stage (the first block
    of a stage changes the shape, the second keeps it: both shortcut kinds run). The
    grouped and widened bottlenecks (ResNeXt, Wide ResNet) run on 32x32 images: a grouped
    convolution on TensorFlow's CPU is compiled by XLA at each eager call."""
    tiny = {"width_multiplier": 0.25,
            "depths": tuple(min(d, 2) for d in VARIANTS[name]["depths"])}
    if "width_per_group" in VARIANTS[name]:
        tiny["input_shape"] = (32, 32, 3)
    return tiny


@register(ResNet, VARIANTS, weights=("imagenet", "a1_in1k"))
def resnet18(**kwargs):
    """ResNet-18, torchvision's layout: 11,689,512 trainable parameters at 224x224x3."""
    return create("resnet18", **kwargs)


@register(ResNet, VARIANTS, weights=("imagenet",))
def resnet34(**kwargs):
    """ResNet-34, torchvision's layout: 21,797,672 trainable parameters at 224x224x3."""
    return create("resnet34", **kwargs)


@register(ResNet, VARIANTS, weights=("imagenet", "a1_in1k"))
def resnet50(**kwargs):
    """ResNet-50 (v1.5), torchvision's layout: 25,557,032 trainable parameters at 224x224x3."""
    return create("resnet50", **kwargs)


@register(ResNet, VARIANTS, weights=("imagenet", "a1h_in1k"))
def resnet101(**kwargs):
    """ResNet-101 (v1.5), torchvision's layout: 44,549,160 trainable parameters."""
    return create("resnet101", **kwargs)


@register(ResNet, VARIANTS, weights=("imagenet",))
def resnet152(**kwargs):
    """ResNet-152 (v1.5), torchvision's layout: 60,192,808 trainable parameters."""
    return create("resnet152", **kwargs)


@register(ResNet, VARIANTS, weights=("imagenet", "a1h_in1k"))
def resnext50_32x4d(**kwargs):
    """ResNeXt-50 32x4d, torchvision's layout: 25,028,904 trainable parameters at 224x224x3."""
    return create("resnext50_32x4d", **kwargs)


@register(ResNet, VARIANTS, weights=("imagenet",))
def resnext101_32x8d(**kwargs):
    """ResNeXt-101 32x8d, torchvision's layout: 88,791,336 trainable parameters."""
    return create("resnext101_32x8d", **kwargs)


@register(ResNet, VARIANTS, weights=("imagenet",))
def resnext101_64x4d(**kwargs):
    """ResNeXt-101 64x4d, torchvision's layout: 83,455,272 trainable parameters."""
    return create("resnext101_64x4d", **kwargs)


@register(ResNet, VARIANTS, weights=("imagenet",))
def wide_resnet50_2(**kwargs):
    """Wide ResNet-50-2, torchvision's layout: 68,883,240 trainable parameters at 224x224x3."""
    return create("wide_resnet50_2", **kwargs)


@register(ResNet, VARIANTS, weights=("imagenet",))
def wide_resnet101_2(**kwargs):
    """Wide ResNet-101-2, torchvision's layout: 126,886,696 trainable parameters."""
    return create("wide_resnet101_2", **kwargs)


@register(ResNet, VARIANTS, weights=("fashion_mnist",))
def resnet20(**kwargs):
    """ResNet-20 for 32x32 images (He et al. 2016, option A): 269,722 trainable parameters."""
    return create("resnet20", **kwargs)


@register(ResNet, VARIANTS)
def resnet32(**kwargs):
    """ResNet-32 for 32x32 images (He et al. 2016, option A): 464,154 trainable parameters."""
    return create("resnet32", **kwargs)


@register(ResNet, VARIANTS)
def resnet44(**kwargs):
    """ResNet-44 for 32x32 images (He et al. 2016, option A): 658,586 trainable parameters."""
    return create("resnet44", **kwargs)


@register(ResNet, VARIANTS)
def resnet56(**kwargs):
    """ResNet-56 for 32x32 images (He et al. 2016, option A): 853,018 trainable parameters."""
    return create("resnet56", **kwargs)


@register(ResNet, VARIANTS)
def resnet110(**kwargs):
    """ResNet-110 for 32x32 images (He et al. 2016, option A): 1,727,962 trainable parameters."""
    return create("resnet110", **kwargs)
