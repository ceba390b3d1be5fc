"""DenseNet's named variants: one table, one builder (`DenseNet`), one entry point per name."""

from zoo.models.densenet.densenet import DenseNet
from zoo.registry import create, register

IMAGENET = {"input_shape": (224, 224, 3), "num_classes": 1000, "filters": (32, 32, 32, 32)}

#: every variant's constructor arguments (DenseNet's defaults fill the rest)
VARIANTS = {
    "densenet121": {"depths": (6, 12, 24, 16), **IMAGENET},
    "densenet169": {"depths": (6, 12, 32, 32), **IMAGENET},
    "densenet201": {"depths": (6, 12, 48, 32), **IMAGENET},
    # growth 48, stem of 2 x 48 = 96 filters (torchvision's densenet161)
    "densenet161": {"depths": (6, 12, 36, 24), **IMAGENET, "filters": (48, 48, 48, 48)},
    # Huang et al., sec. 3: depth 100 = 3 blocks x 16 bottleneck layers x 2 convs + 4
    "densenet_bc_100": {"depths": (16, 16, 16), "filters": (12, 12, 12), "stem": "small",
                        "input_shape": (32, 32, 3), "num_classes": 10},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: a quarter of the width, at most two dense
    layers per block (every block, transition and the final BN kept)."""
    return {"width_multiplier": 0.25,
            "depths": tuple(min(d, 2) for d in VARIANTS[name]["depths"])}


@register(DenseNet, VARIANTS, weights=("imagenet",))
def densenet121(**kwargs):
    """DenseNet-121, torchvision's layout: 7,978,856 trainable parameters at 224x224x3."""
    return create("densenet121", **kwargs)


@register(DenseNet, VARIANTS, weights=("imagenet",))
def densenet169(**kwargs):
    """DenseNet-169, torchvision's layout: 14,149,480 trainable parameters at 224x224x3."""
    return create("densenet169", **kwargs)


@register(DenseNet, VARIANTS, weights=("imagenet",))
def densenet201(**kwargs):
    """DenseNet-201, torchvision's layout: 20,013,928 trainable parameters at 224x224x3."""
    return create("densenet201", **kwargs)


@register(DenseNet, VARIANTS, weights=("imagenet",))
def densenet161(**kwargs):
    """DenseNet-161 (growth 48), torchvision's layout: 28,681,000 trainable parameters."""
    return create("densenet161", **kwargs)


@register(DenseNet, VARIANTS)
def densenet_bc_100(**kwargs):
    """DenseNet-BC (L=100, k=12) for 32x32 images: 769,162 trainable parameters."""
    return create("densenet_bc_100", **kwargs)
