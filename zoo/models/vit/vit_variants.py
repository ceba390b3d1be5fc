"""The vision transformers' named variants: torchvision's ViT, timm's DeiT and DINOv2.

One table, one builder (`VisionTransformer`), one entry point per name.
"""

from zoo.models.vit.vision_transformer import VisionTransformer
from zoo.registry import create, register

IMAGENET = {"input_shape": (224, 224, 3), "num_classes": 1000}
BASE = {"hidden_dim": 768, "depth": 12, "num_heads": 12}
LARGE = {"hidden_dim": 1024, "depth": 24, "num_heads": 16}
HUGE = {"hidden_dim": 1280, "depth": 32, "num_heads": 16}
TINY = {"hidden_dim": 192, "depth": 12, "num_heads": 3}
SMALL = {"hidden_dim": 384, "depth": 12, "num_heads": 6}
# DINOv2: patch 14, layer scale 1e-5, trained at 518x518, a feature backbone (the class token)
DINOV2 = {"patch_size": 14, "layer_scale": 1e-5, "input_shape": (518, 518, 3),
          "include_top": False, "pooling": "token"}
DISTILLED = {"distillation_token": True}

#: every variant's constructor arguments (VisionTransformer's defaults fill the rest)
VARIANTS = {
    "vit_b_16": {"patch_size": 16, **BASE, **IMAGENET},
    "vit_b_32": {"patch_size": 32, **BASE, **IMAGENET},
    "vit_l_16": {"patch_size": 16, **LARGE, **IMAGENET},
    "vit_l_32": {"patch_size": 32, **LARGE, **IMAGENET},
    "vit_h_14": {"patch_size": 14, **HUGE, **IMAGENET},
    "deit_tiny_patch16_224": {"patch_size": 16, **TINY, **IMAGENET},
    "deit_small_patch16_224": {"patch_size": 16, **SMALL, **IMAGENET},
    "deit_base_patch16_224": {"patch_size": 16, **BASE, **IMAGENET},
    "deit_tiny_distilled_patch16_224": {"patch_size": 16, **TINY, **IMAGENET, **DISTILLED},
    "deit_small_distilled_patch16_224": {"patch_size": 16, **SMALL, **IMAGENET, **DISTILLED},
    "deit_base_distilled_patch16_224": {"patch_size": 16, **BASE, **IMAGENET, **DISTILLED},
    "vit_small_patch14_dinov2": {**SMALL, **DINOV2},
    "vit_base_patch14_dinov2": {**BASE, **DINOV2},
    "vit_large_patch14_dinov2": {**LARGE, **DINOV2},
    "vit_small_patch14_reg4_dinov2": {**SMALL, **DINOV2, "register_tokens": 4,
                                      "position_prefix": False},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: its own token layout (class, distillation
    and register tokens, position embeddings with or without the prefix), layer scale
    and head, at width 16 (2 heads), 2 blocks, on 16x16 images of 8x8 patches whose
    position embeddings are laid out for 32x32 (so they are resampled)."""
    return {"hidden_dim": 16, "num_heads": 2, "depth": 2, "patch_size": 8,
            "input_shape": (16, 16, 3), "position_size": (32, 32), "num_classes": 10}


@register(VisionTransformer, VARIANTS, weights=("imagenet", "fashion_mnist"))
def vit_b_16(**kwargs):
    """ViT-B/16, torchvision's layout: 86,567,656 trainable parameters at 224x224x3."""
    return create("vit_b_16", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("imagenet",))
def vit_b_32(**kwargs):
    """ViT-B/32, torchvision's layout: 88,224,232 trainable parameters at 224x224x3."""
    return create("vit_b_32", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("imagenet",))
def vit_l_16(**kwargs):
    """ViT-L/16, torchvision's layout: 304,326,632 trainable parameters at 224x224x3."""
    return create("vit_l_16", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("imagenet",))
def vit_l_32(**kwargs):
    """ViT-L/32, torchvision's layout: 306,535,400 trainable parameters at 224x224x3."""
    return create("vit_l_32", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("imagenet",))
def vit_h_14(**kwargs):
    """ViT-H/14, torchvision's layout: 632,045,800 trainable parameters at 224x224x3."""
    return create("vit_h_14", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("fb_in1k",))
def deit_tiny_patch16_224(**kwargs):
    """DeiT-Ti, timm's layout: 5,717,416 trainable parameters at 224x224x3."""
    return create("deit_tiny_patch16_224", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("fb_in1k",))
def deit_small_patch16_224(**kwargs):
    """DeiT-S, timm's layout: 22,050,664 trainable parameters at 224x224x3."""
    return create("deit_small_patch16_224", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("fb_in1k",))
def deit_base_patch16_224(**kwargs):
    """DeiT-B, timm's layout: 86,567,656 trainable parameters at 224x224x3."""
    return create("deit_base_patch16_224", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("fb_in1k",))
def deit_tiny_distilled_patch16_224(**kwargs):
    """DeiT-Ti with a distillation token and head, timm's layout."""
    return create("deit_tiny_distilled_patch16_224", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("fb_in1k",))
def deit_small_distilled_patch16_224(**kwargs):
    """DeiT-S with a distillation token and head, timm's layout."""
    return create("deit_small_distilled_patch16_224", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("fb_in1k",))
def deit_base_distilled_patch16_224(**kwargs):
    """DeiT-B with a distillation token and head, timm's layout."""
    return create("deit_base_distilled_patch16_224", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("lvd142m",))
def vit_small_patch14_dinov2(**kwargs):
    """DINOv2 ViT-S/14 feature backbone, timm's layout, at 518x518x3."""
    return create("vit_small_patch14_dinov2", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("lvd142m",))
def vit_base_patch14_dinov2(**kwargs):
    """DINOv2 ViT-B/14 feature backbone, timm's layout, at 518x518x3."""
    return create("vit_base_patch14_dinov2", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("lvd142m",))
def vit_large_patch14_dinov2(**kwargs):
    """DINOv2 ViT-L/14 feature backbone, timm's layout, at 518x518x3."""
    return create("vit_large_patch14_dinov2", **kwargs)


@register(VisionTransformer, VARIANTS, weights=("lvd142m",))
def vit_small_patch14_reg4_dinov2(**kwargs):
    """DINOv2 ViT-S/14 with 4 register tokens, feature backbone, timm's layout, 518x518x3."""
    return create("vit_small_patch14_reg4_dinov2", **kwargs)
