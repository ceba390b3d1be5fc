"""`SwinTransformer` (Liu et al. 2021, 2022): shifted-window vision transformers, V1 and V2."""

from keras import layers, ops

from zoo.models.swin.qkv_dense import QKVDense
from zoo.models.stochastic_depth import StochasticDepth
from zoo.models.swin.window_attention import WindowAttention, trunc_normal
from zoo.models.transformer_layers import exact_gelu
from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import check_depths, check_min_size, stage_output
from zoo.utils.checks import (
    check_choice,
    check_input_shape,
    check_positive,
    check_rate,
    check_widths,
)
from zoo.errors import UserValueError

#: torchvision's LayerNorm epsilon for Swin
LAYER_NORM_EPSILON = 1e-5
#: torchvision's default init of a Conv2d kernel (kaiming_uniform_, a=sqrt(5))
PATCH_INIT = {"class_name": "VarianceScaling",
              "config": {"scale": 1.0 / 3.0, "mode": "fan_in", "distribution": "uniform"}}


def layer_norm(name):
    """LayerNorm over the channels (last axis) of a map or token sequence, torch's epsilon."""
    return layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name=name)


def linear(units, name, use_bias=True, activation=None):
    """A Dense layer initialized as torchvision initializes Swin's Linear layers."""
    return layers.Dense(units, use_bias=use_bias, activation=activation,
                        kernel_initializer=trunc_normal(), name=name)


def window_attention(x, *, num_heads, window_size, shift_size, version, dropout, name):
    """(Shifted) window attention on a (batch, height, width, dim) map, torchvision's order:
    pad to whole windows, `qkv`, attention, `proj`, crop, dropout.

    Layers: `f"{name}_qkv"` (a `QKVDense`: `zoo.lora` adapts its query and value
    parts), `name` (the
    `WindowAttention` with the position bias), `f"{name}_proj"`.
    """
    height, width, dim = x.shape[1], x.shape[2], x.shape[3]
    pad_bottom = -height % window_size[0]
    pad_right = -width % window_size[1]
    padding = ((0, pad_bottom), (0, pad_right))
    if pad_bottom or pad_right:  # padded tokens are zeros (their qkv: the bias), unmasked
        x = layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)
    x = QKVDense(3 * dim, key_bias=version == 1, kernel_initializer=trunc_normal(),
                 name=f"{name}_qkv")(x)
    x = WindowAttention(num_heads, window_size, shift_size, cosine=version == 2, name=name)(x)
    x = linear(dim, f"{name}_proj")(x)
    if pad_bottom or pad_right:
        x = layers.Cropping2D(padding, name=f"{name}_crop")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def swin_block(x, *, num_heads, window_size, shift_size, mlp_ratio, version, dropout,
               drop_path, name):
    """A Swin block: window attention and an MLP, each a residual branch with a LayerNorm
    before it (V1) or after it (V2, "res-post-norm"), and stochastic depth.

    Layers: `f"{name}_norm1"`, `f"{name}_attn*"`, `f"{name}_norm2"`, `f"{name}_mlp_fc1"`,
    `f"{name}_mlp_fc2"` (torchvision's `norm1`, `attn`, `norm2`, `mlp.0`, `mlp.3`).
    """
    dim = x.shape[-1]

    def branch(y, residual, i):
        norm = layer_norm(f"{name}_norm{i}")
        y = residual(norm(y)) if version == 1 else norm(residual(y))
        return StochasticDepth(drop_path, name=f"{name}_drop_path{i}")(y)

    def attention(y):
        return window_attention(y, num_heads=num_heads, window_size=window_size,
                                shift_size=shift_size, version=version, dropout=dropout,
                                name=f"{name}_attn")

    def mlp(y):
        y = linear(int(dim * mlp_ratio), f"{name}_mlp_fc1")(y)
        y = layers.Activation(exact_gelu, name=f"{name}_mlp_gelu")(y)
        if dropout:
            y = layers.Dropout(dropout, name=f"{name}_mlp_dropout1")(y)
        y = linear(dim, f"{name}_mlp_fc2")(y)
        if dropout:
            y = layers.Dropout(dropout, name=f"{name}_mlp_dropout2")(y)
        return y

    x = layers.Add(name=f"{name}_add1")([x, branch(x, attention, 1)])
    return layers.Add(name=f"{name}_add2")([x, branch(x, mlp, 2)])


def patch_merging(x, units, version, name):
    """Each 2x2 group of tokens concatenated (torchvision's order: (0, 0), (1, 0), (0, 1),
    (1, 1)) and projected to `units`: LayerNorm then Linear (V1), Linear then LayerNorm
    (V2). An odd side is first zero-padded. Layers `f"{name}_norm"`, `f"{name}_reduction"`."""
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    if height % 2 or width % 2:
        x = layers.ZeroPadding2D(((0, height % 2), (0, width % 2)), name=f"{name}_pad")(x)
        height, width = height + height % 2, width + width % 2
    x = ops.reshape(x, (-1, 2, width // 2, 2, channels))
    # (batch x rows, cols, column offset, row offset, channels): x0, x1, x2, x3 in order
    x = ops.reshape(ops.transpose(x, (0, 2, 3, 1, 4)),
                    (-1, height // 2, width // 2, 4 * channels))
    reduction = linear(units, f"{name}_reduction", use_bias=False)
    if version == 1:
        return reduction(layer_norm(f"{name}_norm")(x))
    return layer_norm(f"{name}_norm")(reduction(x))


class SwinTransformer(VisionClassifier):
    """Swin Transformer (V1: Liu et al. 2021, "Swin Transformer: Hierarchical Vision
    Transformer using Shifted Windows"; V2: Liu et al. 2022, "Swin Transformer V2: Scaling
    Up Capacity and Resolution"), torchvision's layout and names.

    A 4x4 patch embedding (strided convolution + LayerNorm), then four stages of Swin
    blocks whose windowed self-attention alternates between regular and shifted windows
    (shifted by half a window, with the attention mask of torchvision), each stage after
    the first starting with a patch merging (2x2 tokens into one, width doubled). A
    final LayerNorm ends the last stage; the head averages the tokens and applies the
    logits. V1 adds a learned relative position bias to scaled dot products and puts
    LayerNorm before each residual branch; V2 uses cosine attention with a learned
    per-head logit scale, a continuous position bias (an MLP of log-spaced relative
    coordinates), LayerNorm after each branch and patch merging that normalizes after
    reducing. Maps of any size run: they are padded to whole windows, as torchvision.

    Trainable parameters at 1000 classes equal torchvision 0.28's
    `sum(p.numel() for p in model.parameters())` (its `num_params`): swin_t 28,288,354;
    swin_s 49,606,258; swin_b 87,768,224; swin_v2_t 28,351,570; swin_v2_s 49,737,442;
    swin_v2_b 87,930,848. `count_params()` adds torchvision's buffers, which are
    non-trainable variables here: the relative position index and (V2) the relative
    coordinates.

    Stage outputs (`features_only`, `model.get_layer("stage2")`) are torchvision's
    `features[1]`, `features[3]`, `features[5]` and, for the last stage, the final
    `norm`'s output, channels last.

    Args:
        input_shape: (height, width, channels), at least `patch_size` on each side.
        num_classes: number of logits.
        include_top: end with token averaging + Dense logits.
        pooling: with `include_top=False`: None (the last map), "avg" or "max".
        filters: per-stage token width (torchvision's `embed_dim * 2 ** i`); each is a
            multiple of its stage's `num_heads` after `width_multiplier`.
        num_heads: attention heads per stage.
        depths: blocks per stage.
        window_size: side of the square attention windows, in tokens.
        patch_size: side of the square patches of the embedding.
        mlp_ratio: MLP width / token width.
        version: 1 (Swin) or 2 (Swin V2).
        width_multiplier: multiplies every width.
        dropout: dropout after the attention projection and in the MLP (torchvision's
            `dropout`; none before the logits).
        drop_path: stochastic depth rate of the last block (torchvision's
            `stochastic_depth_prob`), rising linearly from 0 at the first block.
        features_only: the model returns every stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing`
            arguments (set by `zoo.create(..., weights=...)` from the entry).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("swin_t", input_shape=(32, 32, 1), num_classes=10, patch_size=2,
                       width_multiplier=0.25, depths=(2, 2, 2, 2))
    model.compile(optimizer=keras.optimizers.AdamW(1e-3))
    ```
    """

    head_layers = r"logits"
    function_preserving_arguments = VisionClassifier.function_preserving_arguments + (
        "drop_path",)

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        filters=(96, 192, 384, 768),
        num_heads=(3, 6, 12, 24),
        depths=(2, 2, 6, 2),
        window_size=7,
        patch_size=4,
        mlp_ratio=4.0,
        version=1,
        width_multiplier=1.0,
        dropout=0.0,
        drop_path=0.2,
        features_only=False,
        augment=None,
        preprocessing=None,
        **kwargs,
    ):
        self.depths = check_depths("depths", depths, None)
        self.num_heads = check_depths("num_heads", num_heads, len(self.depths))
        self.window_size = _check_side("window_size", window_size)
        self.patch_size = _check_side("patch_size", patch_size)
        self.mlp_ratio = float(check_positive("mlp_ratio", mlp_ratio))
        self.version = check_choice("version", version, (1, 2))
        if self.version == 2 and self.window_size < 2:
            raise UserValueError("Swin V2's position bias needs windows of at least 2x2. "
                                 f"Received: window_size={window_size!r}")
        self.drop_path = check_rate("drop_path", drop_path)
        check_min_size(check_input_shape(input_shape, 3), self.patch_size, "SwinTransformer")
        filters = check_widths("filters", filters, allow_empty=False)
        self._check_heads(filters, width_multiplier)
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=len(self.depths), **kwargs)

    def _check_heads(self, filters, width_multiplier):
        if len(filters) != len(self.depths) or isinstance(width_multiplier, bool) or \
                not isinstance(width_multiplier, (int, float)) or width_multiplier <= 0:
            return  # the base names these arguments
        for f, heads in zip(filters, self.num_heads):
            width = max(1, int(round(f * width_multiplier)))
            if width % heads:
                raise UserValueError(
                    "Every stage's width must be a multiple of its `num_heads`: "
                    f"{f} x {width_multiplier} = {width} is not a multiple of {heads}. "
                    f"Received: filters={filters!r}, width_multiplier={width_multiplier!r}, "
                    f"num_heads={self.num_heads!r}")

    def build_stages(self, x):
        version, window = self.version, (self.window_size, self.window_size)
        x = layers.Conv2D(self.width(self.filters[0]), self.patch_size, strides=self.patch_size,
                          kernel_initializer=PATCH_INIT, name="patch_embed_conv")(x)
        x = layer_norm("patch_embed_norm")(x)
        total, index, stages = sum(self.depths), 0, []
        for s, (depth, heads) in enumerate(zip(self.depths, self.num_heads)):
            if s > 0:
                x = patch_merging(x, self.width(self.filters[s]), version,
                                  f"stage{s + 1}_merge")
            for b in range(depth):
                shift = (0, 0) if b % 2 == 0 else (window[0] // 2, window[1] // 2)
                x = swin_block(x, num_heads=heads, window_size=window, shift_size=shift,
                               mlp_ratio=self.mlp_ratio, version=version, dropout=self.dropout,
                               drop_path=self.drop_path * index / max(total - 1, 1),
                               name=f"stage{s + 1}_block{b}")
                index += 1
            if s == len(self.depths) - 1:
                x = layer_norm("norm")(x)
            x = stage_output(x, s + 1)
            stages.append(x)
        return stages

    def build_head(self, x):
        """Token averaging and the logits (torchvision's `avgpool`, `head`: no dropout);
        with `include_top=False` the `pooling`."""
        if not self.include_top:
            return self.classifier_head(x)
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        # float32 logits: softmax cross-entropy stays accurate under mixed precision
        return layers.Dense(self._zoo_num_classes, dtype="float32",
                            kernel_initializer=trunc_normal(), name="logits")(x)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "depths": self.depths,
                "window_size": self.window_size, "patch_size": self.patch_size,
                "mlp_ratio": self.mlp_ratio, "version": self.version,
                "drop_path": self.drop_path}


def _check_side(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserValueError(f"`{name}` must be an int >= 1. Received: {name}={value!r}")
    return value
