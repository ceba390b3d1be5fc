"""Vision transformers: ViT (Dosovitskiy et al. 2021, torchvision's layout), DeiT (Touvron et
al. 2021, timm's layout, with the distilled variants) and DINOv2 (Oquab et al. 2023, timm's
layout, with and without registers), one class serving all three exactly.

The family's package (docs/adding-a-family.md): `vision_transformer.py` the
architecture, `vit_blocks.py` its encoder block (stochastic depth and layer scale are the shared
`zoo/models/stochastic_depth.py` and `layer_scale.py`), `vit_variants.py` the named variants,
`vit_convert.py` the torchvision/timm conversion rules, `vit_tuning.py` the search
space, `weights/` the published entries, `test_vit.py` the family's tests. The
attention, MLP, patch and position embeddings are the transformer families' shared
`zoo/models/transformer_layers.py`.
"""

from zoo.models.vit.vision_transformer import VisionTransformer
from zoo.models.vit.vit_variants import (
    deit_base_distilled_patch16_224,
    deit_base_patch16_224,
    deit_small_distilled_patch16_224,
    deit_small_patch16_224,
    deit_tiny_distilled_patch16_224,
    deit_tiny_patch16_224,
    vit_b_16,
    vit_b_32,
    vit_base_patch14_dinov2,
    vit_h_14,
    vit_l_16,
    vit_l_32,
    vit_large_patch14_dinov2,
    vit_small_patch14_dinov2,
    vit_small_patch14_reg4_dinov2,
)

__all__ = ["VisionTransformer", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14",
           "deit_tiny_patch16_224", "deit_small_patch16_224", "deit_base_patch16_224",
           "deit_tiny_distilled_patch16_224", "deit_small_distilled_patch16_224",
           "deit_base_distilled_patch16_224", "vit_small_patch14_dinov2",
           "vit_base_patch14_dinov2", "vit_large_patch14_dinov2",
           "vit_small_patch14_reg4_dinov2"]
