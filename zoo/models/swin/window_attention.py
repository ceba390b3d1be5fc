"""`WindowAttention`: multi-head self-attention inside (shifted) windows, Swin's core."""

import math

import keras
import numpy as np
from keras import layers, ops

#: torchvision's additive mask between tokens of different regions of a shifted window
MASK_VALUE = -100.0


def trunc_normal():
    """torchvision's initialization of Swin's Linear layers and position table (a new
    initializer each time: keras draws the same values from one unseeded instance)."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


def relative_position_index(window_size):
    """(N * N,) int32: for each pair of tokens of a window (N = height x width), the row of
    the relative position table their offset reads (torchvision's `relative_position_index`)."""
    wh, ww = window_size
    coords = np.stack(np.meshgrid(np.arange(wh), np.arange(ww), indexing="ij")).reshape(2, -1)
    relative = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0)
    relative[:, :, 0] += wh - 1
    relative[:, :, 1] += ww - 1
    relative[:, :, 0] *= 2 * ww - 1
    return relative.sum(-1).reshape(-1).astype("int32")


def relative_coords_table(window_size):
    """(1, 2h - 1, 2w - 1, 2) float32: each relative offset scaled to [-8, 8] and log-spaced,
    `sign(x) log2(|x| + 1) / 3` (Swin V2's continuous position bias inputs)."""
    wh, ww = window_size
    rows = np.arange(-(wh - 1), wh, dtype="float32") / max(wh - 1, 1)
    cols = np.arange(-(ww - 1), ww, dtype="float32") / max(ww - 1, 1)
    table = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1)[None] * 8.0
    return (np.sign(table) * np.log2(np.abs(table) + 1.0) / 3.0).astype("float32")


def shift_mask(height, width, window_size, shift_size):
    """(windows, N, N) float32: 0 between tokens of one region of the rolled map, -100
    between tokens that the cyclic shift brought together (torchvision's `attn_mask`)."""
    (wh, ww), (sh, sw) = window_size, shift_size
    regions = np.zeros((height, width), "float32")
    count = 0
    for h in ((0, -wh), (-wh, -sh), (-sh, None)):
        for w in ((0, -ww), (-ww, -sw), (-sw, None)):
            regions[h[0]:h[1], w[0]:w[1]] = count
            count += 1
    regions = regions.reshape(height // wh, wh, width // ww, ww).transpose(0, 2, 1, 3)
    regions = regions.reshape(-1, wh * ww)
    differ = regions[:, None, :] - regions[:, :, None]
    return np.where(differ != 0, MASK_VALUE, 0.0).astype("float32")


def _constant(value):
    """An initializer returning `value` (a window's fixed index or coordinates)."""

    def initializer(shape, dtype=None):
        return np.asarray(value).reshape(shape).astype(keras.backend.standardize_dtype(dtype))

    return initializer


@keras.saving.register_keras_serializable(package="zoo")
class WindowAttention(layers.Layer):
    """Self-attention within windows of a map, optionally shifted (Swin's W-MSA / SW-MSA).

    Takes the query-key-value map `(batch, height, width, 3 * dim)` (a Dense of the
    normalized tokens, padded to whole windows: torchvision's `qkv` applied to the
    padded map) and returns the attended values `(batch, height, width, dim)`, before
    the output projection. The map is rolled up and left by `shift_size` (none where the
    window covers the whole map, as torchvision), cut into windows, and each window's
    tokens attend to each other through `keras.ops.dot_product_attention` (a backend's
    fused kernel where it has one) with a bias: the relative position bias plus, when
    shifted, -100 between tokens of different regions.

    - Swin V1 (`cosine=False`): scaled dot products; the bias is a learned table
      `relative_position_bias_table` ((2h - 1)(2w - 1), heads) read at
      `relative_position_index`.
    - Swin V2 (`cosine=True`): cosine similarity of queries and keys times a learned
      per-head `logit_scale` (exp, clamped at 100); the bias is `16 sigmoid(mlp(c))`
      of a two-layer MLP (`cpb_mlp0`, ReLU, `cpb_mlp2`) of the log-spaced relative
      coordinates `relative_coords_table`.

    The index and the coordinates are non-trainable variables, as torchvision's buffers
    (their checkpoints carry them). Variables and sublayers have torchvision's names
    (`f"{name}_cpb_mlp0"` is `attn.cpb_mlp.0`).

    Args:
        num_heads: attention heads (they divide `dim`).
        window_size: (height, width) of a window, in tokens.
        shift_size: (rows, columns) of the cyclic shift (0: none).
        cosine: Swin V2's cosine attention and continuous position bias.
        cpb_units: width of V2's position-bias MLP (torchvision's 512).
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:

    ```python
    qkv = keras.layers.Dense(3 * 96, name="block_attn_qkv")(tokens)  # (batch, 56, 56, 288)
    values = WindowAttention(3, (7, 7), (3, 3), name="block_attn")(qkv)  # (batch, 56, 56, 96)
    ```
    """

    def __init__(self, num_heads, window_size, shift_size=(0, 0), cosine=False, cpb_units=512,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.window_size = tuple(int(w) for w in window_size)
        self.shift_size = tuple(int(s) for s in shift_size)
        self.cosine = bool(cosine)
        self.cpb_units = int(cpb_units)
        if self.cosine:
            self.cpb_mlp0 = layers.Dense(self.cpb_units, activation="relu",
                                         kernel_initializer=trunc_normal(),
                                         name=f"{self.name}_cpb_mlp0")
            self.cpb_mlp2 = layers.Dense(self.num_heads, use_bias=False,
                                         kernel_initializer=trunc_normal(),
                                         name=f"{self.name}_cpb_mlp2")

    def build(self, input_shape):
        wh, ww = self.window_size
        tokens = wh * ww
        table_rows = (2 * wh - 1) * (2 * ww - 1)
        if self.cosine:
            self.logit_scale = self.add_weight(
                name="logit_scale", shape=(self.num_heads, 1, 1),
                initializer=keras.initializers.Constant(math.log(10.0)))
            self.cpb_mlp0.build((None, 2))
            self.cpb_mlp2.build((None, self.cpb_units))
            self.relative_coords_table = self.add_weight(
                name="relative_coords_table", shape=(1, 2 * wh - 1, 2 * ww - 1, 2),
                initializer=_constant(relative_coords_table(self.window_size)), trainable=False)
        else:
            self.relative_position_bias_table = self.add_weight(
                name="relative_position_bias_table", shape=(table_rows, self.num_heads),
                initializer=trunc_normal())
        self.relative_position_index = self.add_weight(
            name="relative_position_index", shape=(tokens * tokens,), dtype="int32",
            initializer=_constant(relative_position_index(self.window_size)), trainable=False)
        self.built = True

    def position_bias(self):
        """(heads, N, N): the bias each head adds to its attention logits."""
        tokens = self.window_size[0] * self.window_size[1]
        if self.cosine:
            table = self.cpb_mlp2(self.cpb_mlp0(self.relative_coords_table))
            table = ops.reshape(table, (-1, self.num_heads))
        else:
            table = self.relative_position_bias_table
        bias = ops.take(table, self.relative_position_index, axis=0)
        bias = ops.transpose(ops.reshape(bias, (tokens, tokens, self.num_heads)), (2, 0, 1))
        return 16.0 * ops.sigmoid(bias) if self.cosine else bias

    def call(self, inputs):
        height, width, channels = inputs.shape[1], inputs.shape[2], inputs.shape[3]
        (wh, ww), heads = self.window_size, self.num_heads
        dim = channels // 3
        tokens = wh * ww
        # no shift along an axis that one window covers (torchvision's rule)
        shift = tuple(0 if w >= size else s
                      for w, s, size in zip(self.window_size, self.shift_size, (height, width)))
        shifted = sum(shift) > 0
        x = _roll(inputs, (-shift[0], -shift[1]))
        # windows, each a sequence of tokens: (batch x windows, N, 3, heads, head_dim); at
        # most 4-D transposes (LiteRT's and ONNX's limits)
        x = ops.reshape(x, (-1, wh, width // ww, ww * channels))
        x = ops.reshape(ops.transpose(x, (0, 2, 1, 3)), (-1, tokens, 3, heads, dim // heads))
        query, key, value = x[:, :, 0], x[:, :, 1], x[:, :, 2]
        bias = ops.cast(self.position_bias(), inputs.dtype)[None]
        if self.cosine:
            scale = ops.exp(ops.minimum(self.logit_scale, math.log(100.0)))
            query = _normalize(query) * ops.cast(ops.reshape(scale, (1, 1, heads, 1)),
                                                 inputs.dtype)
            key, factor = _normalize(key), 1.0
        else:
            factor = (dim // heads) ** -0.5
        if shifted:
            mask = ops.convert_to_tensor(shift_mask(height, width, self.window_size, shift),
                                         dtype=inputs.dtype)
            # one bias per window (windows, heads, N, N), repeated for every image: the
            # windows of image b are rows b x windows ... (b + 1) x windows - 1
            bias = ops.tile(bias + mask[:, None], (ops.shape(inputs)[0], 1, 1, 1))
        x = ops.dot_product_attention(query, key, value, bias=bias, scale=factor)
        # back to the map: (batch, height, width, dim)
        x = ops.reshape(x, (-1, width // ww, wh, ww * dim))
        x = ops.reshape(ops.transpose(x, (0, 2, 1, 3)), (-1, height, width, dim))
        return _roll(x, shift)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // 3)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "window_size": self.window_size, "shift_size": self.shift_size,
                "cosine": self.cosine, "cpb_units": self.cpb_units}


def _roll(x, shift):
    """`x` rolled by `shift` (rows, columns) on axes 1 and 2 (`ops.roll` as two slices: every
    export format runs slices and concatenations)."""
    for axis, step in ((1, shift[0]), (2, shift[1])):
        size = x.shape[axis]
        step = step % size
        if step:
            head = x[:, size - step:] if axis == 1 else x[:, :, size - step:]
            tail = x[:, :size - step] if axis == 1 else x[:, :, :size - step]
            x = ops.concatenate([head, tail], axis=axis)
    return x


def _normalize(x):
    """`x / max(|x|, 1e-12)` along the last axis (torch's `F.normalize`).

    The clamp sits under the square root (`sqrt(max(|x|^2, 1e-24))`, the same value):
    a zero vector (a padded window token's key) then has a finite gradient, where
    `sqrt`'s at 0 would make NaN (JAX).
    """
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-24))
