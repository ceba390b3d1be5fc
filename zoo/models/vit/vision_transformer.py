"""`VisionTransformer`: ViT (torchvision), DeiT and DINOv2 (timm) in one functional class."""

from keras import layers

from zoo.models.transformer_layers import (
    LAYER_NORM_EPSILON,
    TokenEmbedding,
    TokenPooling,
    TokensToMap,
    drop_path_rates,
    grid_of,
    layer_norm,
    patch_embedding,
)
from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import batch_norm, chain, conv, stage_output
from zoo.models.vit.vit_blocks import encoder_block
from zoo.utils.checks import (
    check_bool,
    check_input_shape,
    check_positive,
    check_positive_int,
    check_rate,
)
from zoo.errors import UserValueError


def check_conv_stem(value, patch_size):
    """None, or [(filters, kernel_size, stride), ...] whose strides multiply to
    `patch_size` (torchvision's `conv_stem_configs`: the stem replaces the patch
    projection, so its output grid must be the patches'): a list of int triples."""
    if value is None:
        return None
    bad = UserValueError(
        "`conv_stem` must be None or a non-empty list of (filters, kernel_size, stride) "
        f"triples of positive ints, odd kernel sizes, whose strides multiply to "
        f"patch_size={patch_size}. Received: conv_stem={value!r}")
    try:
        stem = [tuple(layer) for layer in value]
    except TypeError:
        raise bad from None
    product = 1
    for layer in stem:
        if len(layer) != 3 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1
                                  for v in layer) or layer[1] % 2 == 0:
            raise bad
        product *= layer[2]
    if not stem or product != patch_size:
        raise bad
    return [list(layer) for layer in stem]


def check_feature_blocks(value, depth):
    """None (every block), an int n (the last n blocks) or block indices (from 0, negative
    counting from the end, as timm's `forward_intermediates`): sorted indices."""
    bad = ValueError(
        f"`feature_blocks` must be None, an int in [1, depth={depth}] (the last n blocks) or "
        f"block indices in [-{depth}, {depth - 1}]. Received: feature_blocks={value!r}")
    if value is None:
        return None
    if isinstance(value, bool):
        raise bad
    if isinstance(value, int):
        if not 1 <= value <= depth:
            raise bad
        return list(range(depth - value, depth))
    try:
        indices = [int(i) for i in value]
    except (TypeError, ValueError):
        raise bad from None
    if not indices or any(isinstance(i, bool) or not -depth <= i < depth for i in value):
        raise bad
    return sorted({i % depth for i in indices})


class VisionTransformer(VisionClassifier):
    """Vision transformer: patches embedded as tokens, pre-norm encoder blocks, a token head.

    One builder for three families of published weights:

    - ViT (Dosovitskiy et al. 2021), torchvision's layout: a class token, learned
      position embeddings, pre-norm blocks (LayerNorm eps 1e-6, exact GELU), logits
      from the class token. Trainable parameters at 224x224x3 / 1000 classes equal
      torchvision 0.28's: vit_b_16 86,567,656; vit_b_32 88,224,232; vit_l_16
      304,326,632; vit_l_32 306,535,400; vit_h_14 632,045,800 (633,470,440 at its
      weights' 518x518).
    - DeiT (Touvron et al. 2021), timm's layout; the distilled variants add a
      distillation token and a second head, and their logits are the mean of the
      two heads' (timm's inference output).
    - DINOv2 (Oquab et al. 2023), timm's layout: layer scale, a feature backbone
      (no classifier: `include_top=False`, the class token after the final norm);
      with registers (Darcet et al. 2024), register tokens without position
      embeddings.

    Any image size: the position embeddings are laid out for `position_size` and
    resampled (bicubic, antialiased, as timm's `resample_abs_pos_embed`; class,
    distillation and register tokens kept apart) to the grid of `input_shape` when
    the model is created, or to the grid of each input with `dynamic_size=True`
    (then the model takes images of any size, as timm's `dynamic_img_size=True`).
    The embeddings themselves stay at `position_size`, so weights trained at one
    size load at every other.

    Outputs: the logits; with `include_top=False`, `pooling=None` gives every
    token after the final norm (batch, prefix + patches, width: timm's
    `forward_features`), "token" the class token (with a distillation token, the
    mean of both), "avg" the mean of the patch tokens; `features_only=True` gives
    the output of each of `feature_blocks` (before the final norm, as timm's
    `forward_intermediates`), its patch tokens as a map (batch, rows, columns,
    width) named `stage<block + 1>` (`model.get_layer("stage12")`).

    Args:
        input_shape: (height, width, channels); height and width multiples of
            `patch_size` (with `dynamic_size`, the size the model is described by).
        num_classes: number of logits.
        include_top: end with the classifier.
        pooling: with `include_top=False`: None (all tokens), "token" or "avg".
        patch_size: the side of the square patches.
        hidden_dim: the tokens' width.
        depth: the number of encoder blocks.
        num_heads: attention heads (`hidden_dim` must be a multiple).
        mlp_dim: the width of each block's MLP (None: 4 x `hidden_dim`, every published
            variant's).
        qkv_bias: biases on the query, key and value projections.
        layer_norm_epsilon: the LayerNorms' epsilon (1e-6 in torchvision and timm).
        layer_scale: None, or the initial value of each branch's layer scale (DINOv2).
        distillation_token: add DeiT's distillation token and its head.
        register_tokens: how many register tokens follow the class token.
        position_prefix: the position embeddings cover the class (and distillation)
            token (False: the patches only, timm's `no_embed_class`).
        position_size: the (height, width) the position embeddings are laid out for
            (None: `input_shape`'s).
        dynamic_size: take images of any size (multiples of `patch_size`), resampling
            the position embeddings to each input's grid.
        dropout: dropout rate before the logits.
        drop_path: stochastic depth rate of the last block (rising linearly from 0
            over the blocks, timm's rule).
        features_only: the model returns the `feature_blocks` outputs as maps.
        feature_blocks: None (every block), n (the last n) or block indices.
        remat: rematerialize each block's activations in training (keras's
            `RematScope`): less memory, more time.
        conv_stem: None (the patches' strided projection), or a convolutional stem
            in its place, torchvision's `conv_stem_configs` (Xiao et al. 2021, "Early
            convolutions help transformers see better"): one [filters, kernel_size,
            stride] per convolution (each followed by BatchNorm and ReLU, padded by
            kernel_size // 2), then a 1x1 convolution to `hidden_dim`; the strides
            multiply to `patch_size`.
        augment, preprocessing: as every vision family (`VisionClassifier`).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("vit_b_16", input_shape=(32, 32, 1), num_classes=10, patch_size=4,
                       hidden_dim=64, depth=2, num_heads=2, mlp_dim=128)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3))
    ```
    """

    poolings = (None, "token", "avg")
    function_preserving_arguments = VisionClassifier.function_preserving_arguments + (
        "drop_path", "dynamic_size", "feature_blocks", "remat")
    head_arguments = VisionClassifier.head_arguments + ("feature_blocks",)
    #: no file of an earlier layout exists (the family came after the functional vision models)
    reads_legacy_layout = False

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        patch_size=16,
        hidden_dim=768,
        depth=12,
        num_heads=12,
        mlp_dim=None,
        qkv_bias=True,
        layer_norm_epsilon=LAYER_NORM_EPSILON,
        layer_scale=None,
        distillation_token=False,
        register_tokens=0,
        position_prefix=True,
        position_size=None,
        dynamic_size=False,
        dropout=0.0,
        drop_path=0.0,
        features_only=False,
        feature_blocks=None,
        remat=False,
        conv_stem=None,
        augment=None,
        preprocessing=None,
        **kwargs,
    ):
        input_shape = check_input_shape(input_shape, 3, 3)
        self.patch_size = check_positive_int("patch_size", patch_size)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        self.depth = check_positive_int("depth", depth)
        self.num_heads = check_positive_int("num_heads", num_heads)
        if hidden_dim % num_heads:
            raise UserValueError("`hidden_dim` must be a multiple of `num_heads`. Received: "
                                 f"hidden_dim={hidden_dim}, num_heads={num_heads}")
        self.mlp_dim = check_positive_int("mlp_dim", mlp_dim, allow_none=True) or 4 * hidden_dim
        self.qkv_bias = check_bool("qkv_bias", qkv_bias)
        self.layer_norm_epsilon = check_positive("layer_norm_epsilon", layer_norm_epsilon)
        self.layer_scale = check_positive("layer_scale", layer_scale, allow_none=True)
        self.distillation_token = check_bool("distillation_token", distillation_token)
        self.register_tokens = register_tokens
        if isinstance(register_tokens, bool) or not isinstance(register_tokens, int) \
                or register_tokens < 0:
            raise UserValueError("`register_tokens` must be an int >= 0. "
                                 f"Received: register_tokens={register_tokens!r}")
        self.position_prefix = check_bool("position_prefix", position_prefix)
        self.dynamic_size = check_bool("dynamic_size", dynamic_size)
        if self.dynamic_size and preprocessing is not None:
            raise UserValueError("`dynamic_size=True` takes images of any size as they are; "
                                 "`preprocessing` crops them to one size. Received: "
                                 f"dynamic_size=True, preprocessing={preprocessing!r}")
        self._check_size("input_shape", input_shape[:2])
        self.position_size = self._check_size("position_size", position_size or
                                              input_shape[:2])
        self.drop_path = check_rate("drop_path", drop_path)
        self.feature_blocks = check_feature_blocks(feature_blocks, self.depth)
        self.remat = check_bool("remat", remat)
        self.conv_stem = check_conv_stem(conv_stem, self.patch_size)
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=(hidden_dim,),
                         dropout=dropout, features_only=features_only, augment=augment,
                         preprocessing=preprocessing, **kwargs)

    def _check_size(self, argument, size):
        size = tuple(size)
        if len(size) != 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1
                                 or s % self.patch_size for s in size):
            raise UserValueError(
                f"`{argument}` must give a height and width that are multiples of "
                f"patch_size={self.patch_size}. Received: {argument}={size!r}")
        return size

    # ------------------------------------------------------------------ the graph
    def input_layer_shape(self, input_shape):
        return (None, None, input_shape[-1]) if self.dynamic_size else input_shape

    def _conv_stem(self, x):
        """torchvision's `conv_proj` with `conv_stem_configs`: conv-BN-ReLU triples, a 1x1
        convolution to the tokens' width."""
        for i, (filters, kernel_size, stride) in enumerate(self.conv_stem):
            x = chain(conv(filters, kernel_size, stride, name=f"patch_embed_stem{i}_conv"), x)
            x = batch_norm(f"patch_embed_stem{i}_bn")(x)
            x = layers.ReLU(name=f"patch_embed_stem{i}_relu")(x)
        return layers.Conv2D(self.hidden_dim, 1, name="patch_embed_last")(x)

    def build_stages(self, x):
        if self.conv_stem is None:
            patches = patch_embedding(x, self.hidden_dim, self.patch_size, name="patch_embed")
        else:
            patches = self._conv_stem(x)
        embedding = TokenEmbedding(grid_of(self.position_size, self.patch_size),
                                   distillation_token=self.distillation_token,
                                   register_tokens=self.register_tokens,
                                   position_prefix=self.position_prefix, name="tokens")
        tokens = embedding(patches)
        rates = drop_path_rates(self.drop_path, self.depth)
        taps = range(self.depth) if self.feature_blocks is None else self.feature_blocks
        stages = []
        # the blocks after the last tap compute nothing a feature model returns
        for i in range(max(taps) + 1 if self.features_only else self.depth):
            tokens = encoder_block(tokens, num_heads=self.num_heads, mlp_dim=self.mlp_dim,
                                   name=f"block{i}", epsilon=self.layer_norm_epsilon,
                                   qkv_bias=self.qkv_bias, layer_scale=self.layer_scale,
                                   drop_path=rates[i], remat=self.remat)
            if self.features_only and i in taps:
                grid = TokensToMap(embedding.num_prefix_tokens, name=f"block{i}_map")
                stages.append(stage_output(grid([tokens, patches]), i + 1))
        if self.features_only:
            return stages
        # the classifier reads tokens, not a map: the last "stage" is the normed sequence
        return [layer_norm("norm", self.layer_norm_epsilon)(tokens)]

    def build_head(self, tokens):
        prefix = 1 + int(self.distillation_token) + self.register_tokens
        if not self.include_top:
            if self.pooling is None:
                return tokens
            return TokenPooling(self.pooling, prefix, self.distillation_token,
                                name=f"{self.pooling}_pool")(tokens)
        heads = [("logits", 0)] + ([("logits_dist", 1)] if self.distillation_token else [])
        logits = []
        for name, index in heads:
            mode = "distillation" if index else "token"
            x = TokenPooling(mode, prefix, name=f"{name}_token")(tokens)
            if self.dropout:
                x = layers.Dropout(self.dropout, name=f"{name}_dropout")(x)
            logits.append(layers.Dense(self._zoo_num_classes, dtype="float32", name=name)(x))
        if len(logits) == 1:
            return logits[0]
        # DeiT's inference output: the mean of the class and distillation heads
        return layers.Average(dtype="float32", name="logits_mean")(logits)

    # ------------------------------------------------------------------ answers
    @property
    def head_layers(self):
        """The head's layer names (a regex): the classifiers, and with `features_only` the
        final norm and the blocks after the last tapped one (the weights loader expects
        them absent)."""
        names = [r"logits(_dist)?"]
        if self.features_only:
            last = self.depth - 1 if self.feature_blocks is None else max(self.feature_blocks)
            names.append("norm")
            if last + 1 < self.depth:
                names.append("block(%s)_.*" % "|".join(map(str, range(last + 1, self.depth))))
        return "|".join(names)

    def expected_input_shape(self):
        if self.dynamic_size:
            return (None, None, self._zoo_input_shape[-1])
        return super().expected_input_shape()

    def get_config(self):
        config = super().get_config()
        for common in ("filters", "width_multiplier"):  # not arguments of this family
            config.pop(common)
        return {**config, "patch_size": self.patch_size, "hidden_dim": self.hidden_dim,
                "depth": self.depth, "num_heads": self.num_heads, "mlp_dim": self.mlp_dim,
                "qkv_bias": self.qkv_bias, "layer_norm_epsilon": self.layer_norm_epsilon,
                "layer_scale": self.layer_scale, "distillation_token": self.distillation_token,
                "register_tokens": self.register_tokens,
                "position_prefix": self.position_prefix,
                "position_size": list(self.position_size), "dynamic_size": self.dynamic_size,
                "drop_path": self.drop_path, "feature_blocks": self.feature_blocks,
                "remat": self.remat, "conv_stem": self.conv_stem}
