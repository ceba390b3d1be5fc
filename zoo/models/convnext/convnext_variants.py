"""ConvNeXt's named variants: one table, one builder (`ConvNeXt`), one entry point per name."""

from zoo.models.convnext.convnext import ConvNeXt
from zoo.registry import create, register

IMAGENET = {"input_shape": (224, 224, 3), "num_classes": 1000}

#: every variant's constructor arguments (ConvNeXt's defaults fill the rest); the
#: stochastic-depth rates are torchvision's builders' `stochastic_depth_prob`
VARIANTS = {
    "convnext_tiny": {"depths": (3, 3, 9, 3), "filters": (96, 192, 384, 768),
                      "stochastic_depth_rate": 0.1, **IMAGENET},
    "convnext_small": {"depths": (3, 3, 27, 3), "filters": (96, 192, 384, 768),
                       "stochastic_depth_rate": 0.4, **IMAGENET},
    "convnext_base": {"depths": (3, 3, 27, 3), "filters": (128, 256, 512, 1024),
                      "stochastic_depth_rate": 0.5, **IMAGENET},
    "convnext_large": {"depths": (3, 3, 27, 3), "filters": (192, 384, 768, 1536),
                       "stochastic_depth_rate": 0.5, **IMAGENET},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: every layer kind (stem, downsampling,
    blocks with layer scale and stochastic depth, LayerNorm head) at 32x32, one or two
    blocks per stage, 1/16 of the width."""
    return {"input_shape": (32, 32, 3), "width_multiplier": 1 / 16,
            "depths": (1, 1, 2, 1)}


@register(ConvNeXt, VARIANTS, weights=("imagenet", "fb_in22k_ft_in1k"))
def convnext_tiny(**kwargs):
    """ConvNeXt-T, torchvision's layout: 28,589,128 trainable parameters at 224x224x3."""
    return create("convnext_tiny", **kwargs)


@register(ConvNeXt, VARIANTS, weights=("imagenet",))
def convnext_small(**kwargs):
    """ConvNeXt-S, torchvision's layout: 50,223,688 trainable parameters at 224x224x3."""
    return create("convnext_small", **kwargs)


@register(ConvNeXt, VARIANTS, weights=("imagenet",))
def convnext_base(**kwargs):
    """ConvNeXt-B, torchvision's layout: 88,591,464 trainable parameters at 224x224x3."""
    return create("convnext_base", **kwargs)


@register(ConvNeXt, VARIANTS, weights=("imagenet",))
def convnext_large(**kwargs):
    """ConvNeXt-L, torchvision's layout: 197,767,336 trainable parameters at 224x224x3."""
    return create("convnext_large", **kwargs)
