"""Swin's named variants: one table, one builder (`SwinTransformer`), one entry point per name."""

from zoo.models.swin.swin_transformer import SwinTransformer
from zoo.registry import create, register

# torchvision's builders (swin_transformer.py): V1 at 224x224 with 7x7 windows, V2 at
# 256x256 (its weights' crop) with 8x8 windows
V1 = {"version": 1, "window_size": 7, "input_shape": (224, 224, 3), "num_classes": 1000}
V2 = {"version": 2, "window_size": 8, "input_shape": (256, 256, 3), "num_classes": 1000}
TINY = {"filters": (96, 192, 384, 768), "num_heads": (3, 6, 12, 24), "depths": (2, 2, 6, 2),
        "drop_path": 0.2}
SMALL = {**TINY, "depths": (2, 2, 18, 2), "drop_path": 0.3}
BASE = {"filters": (128, 256, 512, 1024), "num_heads": (4, 8, 16, 32), "depths": (2, 2, 18, 2),
        "drop_path": 0.5}

#: every variant's constructor arguments (SwinTransformer's defaults fill the rest)
VARIANTS = {
    "swin_t": {**TINY, **V1},
    "swin_s": {**SMALL, **V1},
    "swin_b": {**BASE, **V1},
    "swin_v2_t": {**TINY, **V2},
    "swin_v2_s": {**SMALL, **V2},
    "swin_v2_b": {**BASE, **V2},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: its own version (attention, block norm
    order, patch merging) at a quarter of the width, 32x32 inputs (8x8 tokens) and 4x4
    windows: the first stage has a regular and a shifted window block (with its mask),
    the third pads its 2x2 map to a whole window."""
    return {"width_multiplier": 0.25, "input_shape": (32, 32, 3), "window_size": 4,
            "depths": (2, 1, 1, 1)}


@register(SwinTransformer, VARIANTS, weights=("imagenet",))
def swin_t(**kwargs):
    """Swin-T, torchvision's layout: 28,288,354 trainable parameters at 224x224x3."""
    return create("swin_t", **kwargs)


@register(SwinTransformer, VARIANTS, weights=("imagenet",))
def swin_s(**kwargs):
    """Swin-S, torchvision's layout: 49,606,258 trainable parameters at 224x224x3."""
    return create("swin_s", **kwargs)


@register(SwinTransformer, VARIANTS, weights=("imagenet",))
def swin_b(**kwargs):
    """Swin-B, torchvision's layout: 87,768,224 trainable parameters at 224x224x3."""
    return create("swin_b", **kwargs)


@register(SwinTransformer, VARIANTS, weights=("imagenet",))
def swin_v2_t(**kwargs):
    """Swin V2-T, torchvision's layout: 28,351,570 trainable parameters at 256x256x3."""
    return create("swin_v2_t", **kwargs)


@register(SwinTransformer, VARIANTS, weights=("imagenet",))
def swin_v2_s(**kwargs):
    """Swin V2-S, torchvision's layout: 49,737,442 trainable parameters at 256x256x3."""
    return create("swin_v2_s", **kwargs)


@register(SwinTransformer, VARIANTS, weights=("imagenet",))
def swin_v2_b(**kwargs):
    """Swin V2-B, torchvision's layout: 87,930,848 trainable parameters at 256x256x3."""
    return create("swin_v2_b", **kwargs)
