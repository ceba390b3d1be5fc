"""The pre-norm transformer encoder block of ViT, DeiT and DINOv2 (a function, as the
other families' blocks)."""

import contextlib

from keras import layers

from zoo.models.layer_scale import LayerScale
from zoo.models.transformer_layers import feed_forward, layer_norm, remat_scope, self_attention
from zoo.models.vit.drop_path import DropPath


def encoder_block(x, *, num_heads, mlp_dim, name, epsilon, qkv_bias=True, layer_scale=None,
                  drop_path=0.0, remat=False):
    """`x + attention(norm1(x))`, then `x + mlp(norm2(x))`, each branch through layer scale
    (when `layer_scale` is its initial value) and stochastic depth (when `drop_path`).

    Layers: `f"{name}_norm1"`, `f"{name}_query"` / `_key` / `_value` / `_attention` /
    `_proj`, `f"{name}_ls1"`, `f"{name}_drop_path1"`, `f"{name}_add1"`, then
    `f"{name}_norm2"`, `f"{name}_fc1"`, `f"{name}_act"`, `f"{name}_fc2"`, `f"{name}_ls2"`,
    `f"{name}_drop_path2"`, `f"{name}_add2"` (timm's `blocks.i`, torchvision's
    `encoder.layers.encoder_layer_i`).

    remat: create the block's layers in a `keras.RematScope`
        (`transformer_layers.remat_scope`): in training, the LayerNorms', the
        attention's and the MLP activation's intermediate values are recomputed in the
        backward pass instead of kept (the attention scores and probabilities above
        all), trading time for memory (docs/benchmarks.md).
    """
    with remat_scope(name) if remat else contextlib.nullcontext():
        for branch in (1, 2):
            y = layer_norm(f"{name}_norm{branch}", epsilon)(x)
            if branch == 1:
                y = self_attention(y, num_heads, name, qkv_bias=qkv_bias)
            else:
                y = feed_forward(y, mlp_dim, name)
            if layer_scale is not None:
                y = LayerScale(layer_scale, name=f"{name}_ls{branch}")(y)
            if drop_path:
                y = DropPath(drop_path, name=f"{name}_drop_path{branch}")(y)
            x = layers.Add(name=f"{name}_add{branch}")([x, y])
    return x
