"""Building blocks the transformer families share: patch embedding, prefix tokens and
position embeddings resampled to any grid, multi-head self-attention through
`keras.ops.dot_product_attention`, the MLP block.

Functions return tensors of a functional graph, as `vision_layers` does; the few
layers with their own variables or shape logic are classes. Layer names follow one
scheme a family passes as `name`: `f"{name}_query"`, `f"{name}_key"`,
`f"{name}_value"` (the LoRA targets, `zoo.lora.DEFAULT_TARGETS`), `f"{name}_attention"`
(the weightless core), `f"{name}_proj"`, `f"{name}_fc1"`, `f"{name}_fc2"`, so a
family's conversion rules and `zoo.lora.enable(model, rank, targets=("query",
"value"))` find them by name.

Position embeddings at another grid than the one they were trained at are resampled
as timm's `resample_abs_pos_embed` does (`torch.nn.functional.interpolate(...,
mode="bicubic", antialias=True, align_corners=False)`): separable bicubic weights
(Keys' kernel, a = -0.5), stretched by the scale factor when shrinking, each output
position's weights cut to the grid and normalized to sum to 1; class, distillation
and register tokens are kept apart, never resampled. The weights are a matrix per
axis (`resample_matrix`), computed with `keras.ops` so that a grid known only when
the model runs (`dynamic_size=True`) is resampled there.
"""

import keras
import numpy as np
from keras import layers, ops

from zoo.errors import UserValueError

#: timm's and torchvision's transformer LayerNorm epsilon
LAYER_NORM_EPSILON = 1e-6
#: the attention projections LoRA adapts by default (KerasHub's choice)
LORA_TARGETS = ("query", "value")


# ---------------------------------------------------------------- resampling
def _cubic(x, a=-0.5):
    x = ops.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return ops.where(x < 1.0, near, ops.where(x < 2.0, far, ops.zeros_like(x)))


def resample_matrix(out_size, in_size):
    """(out_size, in_size) float32 weights of torch's antialiased bicubic resize of one axis.

    `in_size` is a python int; `out_size` a python int or a scalar tensor (a grid
    known only at run time). Row `i` holds the weights output position `i` gives
    each input position: `resample_matrix(n, n)` is the identity.
    """
    out_f = ops.cast(out_size, "float32")
    scale = float(in_size) / out_f
    wide = ops.maximum(scale, 1.0)  # shrinking stretches the kernel (antialiasing)
    support = 2.0 * wide
    centers = scale * (ops.cast(ops.arange(out_size), "float32") + 0.5)[:, None]
    lo = ops.maximum(ops.floor(centers - support + 0.5), 0.0)
    hi = ops.minimum(ops.floor(centers + support + 0.5), float(in_size))
    inputs = ops.cast(ops.arange(in_size), "float32")[None, :]
    inside = ops.logical_and(inputs >= lo, inputs < hi)
    weights = ops.where(inside, _cubic((inputs - centers + 0.5) / wide), 0.0)
    return weights / ops.sum(weights, axis=1, keepdims=True)


def resample_grid(grid, new_height, new_width):
    """`grid` (batch, height, width, channels) resampled to (new_height, new_width)."""
    height, width = grid.shape[1], grid.shape[2]
    rows = ops.cast(resample_matrix(new_height, height), grid.dtype)
    cols = ops.cast(resample_matrix(new_width, width), grid.dtype)
    grid = ops.einsum("ih,bhwc->biwc", rows, grid)
    return ops.einsum("jw,biwc->bijc", cols, grid)


# ---------------------------------------------------------------- embeddings
def patch_embedding(x, dim, patch_size, name):
    """Non-overlapping `patch_size` patches, each projected to `dim` (a strided Conv2D, as
    torchvision's `conv_proj` and timm's `patch_embed.proj`): a (batch, height / p,
    width / p, dim) map."""
    return layers.Conv2D(dim, patch_size, strides=patch_size, padding="valid",
                         kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                         name=name)(x)


@keras.saving.register_keras_serializable(package="zoo")
class TokenEmbedding(layers.Layer):
    """Prefix tokens and learned position embeddings: a patch map in, a token sequence out.

    The patch map (batch, height, width, dim) becomes `[class token, distillation
    token, register tokens, patches row by row]` plus the position embeddings,
    which are laid out for a `grid` of patches. A map of another size (another
    `input_shape`, or any size with a dynamic input) gets the embeddings resampled
    to its grid (bicubic, as timm; see the module's docstring), the prefix tokens'
    embeddings kept apart.

    Args:
        grid: (rows, columns) of patches the position embeddings are laid out for.
        class_token: prepend a learned class token.
        distillation_token: prepend a learned distillation token after it (DeiT).
        register_tokens: learned register tokens after those (DINOv2 with registers).
        position_prefix: the position embeddings cover the class and distillation
            tokens (torchvision, DeiT, DINOv2) or only the patches (timm's
            `no_embed_class`: DINOv2 with registers); register tokens have none.

    Variables (their timm / torchvision names): `class_token` (`cls_token` /
    `class_token`), `distillation_token` (`dist_token`), `register_tokens`
    (`reg_token`), `position_embedding` (`pos_embed` / `encoder.pos_embedding`).
    """

    def __init__(self, grid, class_token=True, distillation_token=False, register_tokens=0,
                 position_prefix=True, **kwargs):
        super().__init__(**kwargs)
        self.grid = tuple(int(g) for g in grid)
        self.class_token = bool(class_token)
        self.distillation_token = bool(distillation_token)
        self.register_tokens = int(register_tokens)
        self.position_prefix = bool(position_prefix)

    @property
    def num_prefix_tokens(self):
        return int(self.class_token) + int(self.distillation_token) + self.register_tokens

    @property
    def embedded_prefix(self):
        """How many prefix tokens have a position embedding."""
        if not self.position_prefix:
            return 0
        return int(self.class_token) + int(self.distillation_token)

    def build(self, input_shape):
        dim = input_shape[-1]
        normal = keras.initializers.TruncatedNormal(stddev=0.02)
        if self.class_token:
            self.class_embedding = self.add_weight(
                name="class_token", shape=(1, 1, dim), initializer="zeros")
        if self.distillation_token:
            self.distillation_embedding = self.add_weight(
                name="distillation_token", shape=(1, 1, dim), initializer=normal)
        if self.register_tokens:
            self.register_embedding = self.add_weight(
                name="register_tokens", shape=(1, self.register_tokens, dim),
                initializer=normal)
        length = self.embedded_prefix + self.grid[0] * self.grid[1]
        self.position_embedding = self.add_weight(
            name="position_embedding", shape=(1, length, dim), initializer=normal)

    def positions(self, height, width):
        """(prefix embeddings, patch embeddings) for a `height` x `width` grid (python ints
        when the size is known while tracing, scalar tensors when it is not)."""
        table = self.position_embedding
        prefix, patches = table[:, :self.embedded_prefix], table[:, self.embedded_prefix:]
        static = isinstance(height, int) and isinstance(width, int)
        if not static or (height, width) != self.grid:
            dim = table.shape[-1]
            grid = ops.reshape(patches, (1, self.grid[0], self.grid[1], dim))
            patches = ops.reshape(resample_grid(grid, height, width), (1, -1, dim))
        return prefix, patches

    def call(self, patch_map):
        shape = ops.shape(patch_map)
        batch, height, width, dim = shape[0], shape[1], shape[2], patch_map.shape[-1]
        tokens = ops.reshape(patch_map, (batch, -1, dim))
        prefix_pos, patch_pos = self.positions(height, width)
        tokens = tokens + ops.cast(patch_pos, tokens.dtype)
        prefix = []
        if self.class_token:
            prefix.append(self.class_embedding)
        if self.distillation_token:
            prefix.append(self.distillation_embedding)
        if not prefix and not self.register_tokens:
            return tokens
        if prefix:
            prefix = ops.concatenate(prefix, axis=1)
            if self.embedded_prefix:
                prefix = prefix + prefix_pos
            prefix = [prefix]
        if self.register_tokens:
            prefix.append(self.register_embedding)
        prefix = ops.cast(ops.concatenate(prefix, axis=1), tokens.dtype)
        prefix = ops.broadcast_to(prefix, (batch, self.num_prefix_tokens, dim))
        return ops.concatenate([prefix, tokens], axis=1)

    def compute_output_shape(self, input_shape):
        batch, height, width, dim = input_shape
        length = None if height is None or width is None else height * width
        if length is not None:
            length += self.num_prefix_tokens
        return (batch, length, dim)

    def get_config(self):
        return {**super().get_config(), "grid": list(self.grid),
                "class_token": self.class_token,
                "distillation_token": self.distillation_token,
                "register_tokens": self.register_tokens,
                "position_prefix": self.position_prefix}


@keras.saving.register_keras_serializable(package="zoo")
class TokensToMap(layers.Layer):
    """The patch tokens of a sequence as a map: `[tokens, patch map]` in, the tokens after
    the `num_prefix_tokens` prefix reshaped to the patch map's (height, width) out
    (timm's `forward_intermediates` NCHW output, channels last)."""

    def __init__(self, num_prefix_tokens=1, **kwargs):
        super().__init__(**kwargs)
        self.num_prefix_tokens = int(num_prefix_tokens)

    def call(self, inputs):
        tokens, patch_map = inputs
        shape = ops.shape(patch_map)
        patches = tokens[:, self.num_prefix_tokens:]
        return ops.reshape(patches, (shape[0], shape[1], shape[2], tokens.shape[-1]))

    def compute_output_shape(self, input_shapes):
        tokens, patch_map = input_shapes
        return (*patch_map[:3], tokens[-1])

    def get_config(self):
        return {**super().get_config(), "num_prefix_tokens": self.num_prefix_tokens}


@keras.saving.register_keras_serializable(package="zoo")
class TokenPooling(layers.Layer):
    """A token sequence to one vector: "token" (the class token; with a distillation token,
    the mean of the two, as DeiT's features), "distillation" (the distillation token),
    or "avg" (the mean of the patch tokens, the `num_prefix_tokens` prefix left out)."""

    MODES = ("token", "distillation", "avg")

    def __init__(self, mode="token", num_prefix_tokens=1, distillation_token=False, **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise UserValueError(f"`mode` must be one of {self.MODES}. Received: mode={mode!r}")
        self.mode = mode
        self.num_prefix_tokens = int(num_prefix_tokens)
        self.distillation_token = bool(distillation_token)

    def call(self, tokens):
        if self.mode == "avg":
            return ops.mean(tokens[:, self.num_prefix_tokens:], axis=1)
        if self.mode == "distillation":
            return tokens[:, 1]
        if self.distillation_token:
            return (tokens[:, 0] + tokens[:, 1]) / 2.0
        return tokens[:, 0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode,
                "num_prefix_tokens": self.num_prefix_tokens,
                "distillation_token": self.distillation_token}


# ---------------------------------------------------------------- attention, MLP
@keras.saving.register_keras_serializable(package="zoo")
class DotProductAttention(layers.Layer):
    """Multi-head scaled dot-product attention on projected queries, keys and values.

    `[query, key, value]` in, each (batch, tokens, heads * head_dim); the heads' outputs
    concatenated out. The attention itself is `keras.ops.dot_product_attention`, so a
    backend's fused kernel runs where it has one (torch's
    `scaled_dot_product_attention`, JAX's `dot_product_attention`). An optional
    additive `bias` (broadcast to (batch, heads, queries, keys): a relative position
    bias) or boolean `attention_mask` (True: attend) is passed through.

    Args:
        num_heads: attention heads; the width must be a multiple of it.
        scale: the logits' scale (None: 1 / sqrt(head_dim)).
    """

    def __init__(self, num_heads, scale=None, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.scale = scale

    def _heads(self, x):
        shape = ops.shape(x)
        return ops.reshape(x, (shape[0], shape[1], self.num_heads,
                               x.shape[-1] // self.num_heads))

    def call(self, inputs, bias=None, attention_mask=None):
        # not `mask`: a functional model passes keras's own masks under that name
        query, key, value = inputs
        out = ops.dot_product_attention(self._heads(query), self._heads(key),
                                        self._heads(value), bias=bias, mask=attention_mask,
                                        scale=self.scale)
        shape = ops.shape(out)
        return ops.reshape(out, (shape[0], shape[1], value.shape[-1]))

    def compute_output_shape(self, input_shapes):
        query, _, value = input_shapes
        return (*query[:2], value[-1])

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "scale": self.scale}


def self_attention(x, num_heads, name, qkv_bias=True):
    """Multi-head self-attention: query, key, value projections (Dense layers
    `f"{name}_query"`, `..._key`, `..._value`, the LoRA targets), the attention
    (`f"{name}_attention"`), the output projection `f"{name}_proj"`."""
    dim = x.shape[-1]
    if dim % num_heads:
        raise UserValueError(f"The width must be a multiple of `num_heads`. Received: width={dim}, "
                             f"num_heads={num_heads}")
    qkv = [layers.Dense(dim, use_bias=qkv_bias, name=f"{name}_{part}")(x)
           for part in ("query", "key", "value")]
    y = DotProductAttention(num_heads, name=f"{name}_attention")(qkv)
    return layers.Dense(dim, name=f"{name}_proj")(y)


@keras.saving.register_keras_serializable(package="zoo")
def exact_gelu(x):
    """The exact GELU, x * (1 + erf(x / sqrt(2))) / 2, as torch's `nn.GELU()`. Written with
    `erf`: TensorFlow's own exact GELU uses `erfc`, which ONNX has no operator for."""
    return 0.5 * x * (1.0 + ops.erf(x * float(1.0 / np.sqrt(2.0))))


def feed_forward(x, hidden_dim, name, activation=exact_gelu, dropout=0.0):
    """Dense `f"{name}_fc1"`, its activation `f"{name}_act"` (exact GELU by default, as
    torchvision and timm), Dropout when `dropout`, Dense `f"{name}_fc2"` back to the
    input's width."""
    y = layers.Dense(hidden_dim, name=f"{name}_fc1")(x)
    y = layers.Activation(activation, name=f"{name}_act")(y)
    if dropout:
        y = layers.Dropout(dropout, name=f"{name}_dropout")(y)
    return layers.Dense(x.shape[-1], name=f"{name}_fc2")(y)


def remat_scope(name):
    """A `keras.RematScope` rematerializing the layers of block `name` whose activations are
    worth recomputing: its LayerNorms (`f"{name}_norm1"`, `..._norm2`), the attention
    (`f"{name}_attention"`: the (heads, tokens, tokens) scores and probabilities) and the
    MLP's activation (`f"{name}_act"`). Those layers take no keyword argument, which
    TensorFlow's `tf.recompute_grad` (keras's remat there) cannot pass in a traced step;
    a Dense layer keeps nothing but its input, which the next layer keeps anyway."""
    names = [f"{name}_{part}" for part in ("norm1", "attention", "norm2", "act")]
    return keras.RematScope(mode="list_of_layers", layer_names=names)


def layer_norm(name, epsilon=LAYER_NORM_EPSILON):
    """LayerNormalization over the last axis with torch's (timm's) epsilon."""
    return layers.LayerNormalization(epsilon=epsilon, name=name)


def grid_of(image_size, patch_size):
    """(rows, columns) of patches of an image of `image_size` (height, width)."""
    return tuple(int(s) // int(patch_size) for s in image_size)


def drop_path_rates(rate, depth):
    """timm's stochastic depth decay rule: rates rising linearly from 0 to `rate` over
    `depth` blocks."""
    return [float(r) for r in np.linspace(0.0, rate, depth)] if depth else []
