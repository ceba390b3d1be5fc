"""Swin Transformer (Liu et al. 2021) and Swin V2 (Liu et al. 2022): torchvision's layouts.

Hierarchical vision transformers: self-attention within local windows, shifted
between blocks, and patch merging between stages, so the maps shrink as a
ConvNet's do (stage outputs at 1/4 ... 1/32 of the input, for dense heads).

The family's package (docs/adding-a-family.md): `swin_transformer.py` the
architecture, `window_attention.py` the (shifted) window attention with its
position bias, `qkv_dense.py` the fused query-key-value projection (V2 leaves out
the key's bias), `stochastic_depth.py` drop path, `swin_variants.py` the named
variants, `swin_convert.py` the torchvision conversion rules, `swin_tuning.py`
the search space, `weights/` the published entries, `test_swin.py` the tests.
"""

from zoo.models.swin.swin_transformer import SwinTransformer
from zoo.models.swin.swin_variants import (
    swin_b,
    swin_s,
    swin_t,
    swin_v2_b,
    swin_v2_s,
    swin_v2_t,
)

__all__ = ["SwinTransformer", "swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s",
           "swin_v2_b"]
