"""`ConvNeXt` (Liu et al. 2022, "A ConvNet for the 2020s"), torchvision's layout."""

import keras
from keras import layers

from zoo.models.layer_scale import LayerScale
from zoo.models.stochastic_depth import StochasticDepth
from zoo.models.transformer_layers import exact_gelu
from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import chain, check_depths, check_min_size, stage_output
from zoo.utils.checks import check_input_shape, check_positive, check_rate

#: torchvision's `trunc_normal_(std=0.02)` for convolutions and Dense layers, zero biases
INIT = keras.initializers.TruncatedNormal(stddev=0.02)
EPSILON = 1e-6


def layer_norm(name):
    """LayerNormalization over the channels (the last axis), epsilon 1e-6: torchvision's
    `LayerNorm2d` on NCHW maps and its `LayerNorm` on NHWC ones alike."""
    return layers.LayerNormalization(epsilon=EPSILON, name=name)


def convnext_block(x, *, layer_scale, drop_rate, name):
    """Depthwise 7x7 convolution, LayerNorm, Dense 4C, exact GELU, Dense C, layer scale,
    stochastic depth, residual sum (torchvision's `CNBlock`)."""
    channels = x.shape[-1]
    y = chain([
        layers.DepthwiseConv2D(7, padding="same", depthwise_initializer=INIT,
                               name=f"{name}_dwconv"),
        layer_norm(f"{name}_norm"),
        layers.Dense(4 * channels, kernel_initializer=INIT, name=f"{name}_pwconv1"),
        # exact, as torch's nn.GELU, written with erf: TensorFlow's own uses erfc, which
        # ONNX lacks (the onnx export failed)
        layers.Activation(exact_gelu, name=f"{name}_gelu"),
        layers.Dense(channels, kernel_initializer=INIT, name=f"{name}_pwconv2"),
        LayerScale(layer_scale, name=f"{name}_layer_scale"),
    ], x)
    if drop_rate:
        y = StochasticDepth(drop_rate, name=f"{name}_drop_path")(y)
    return layers.Add(name=f"{name}_add")([x, y])


class ConvNeXt(VisionClassifier):
    """ConvNeXt: a 4x4/4 patchify stem, four stages of ConvNeXt blocks, LayerNorm head.

    Each block is a depthwise 7x7 convolution, a channels-last LayerNorm
    (epsilon 1e-6), an inverted-bottleneck MLP (Dense 4C, exact GELU, Dense C),
    layer scale (initial value 1e-6) and stochastic depth on the residual
    branch; between stages, LayerNorm and a 2x2/2 convolution. The head is
    global average pooling, LayerNorm and the logits. Layout, initialisation
    and the per-block stochastic-depth rates (growing linearly from 0 to
    `stochastic_depth_rate` over the blocks) as torchvision's `convnext_*`.
    Trainable parameters at 224x224x3 / 1000 classes equal torchvision 0.29's:
    convnext_tiny 28,589,128; convnext_small 50,223,688; convnext_base
    88,591,464; convnext_large 197,767,336.

    Inputs from 32x32 (the stem and the three downsamplings divide the size by
    32; Fashion-MNIST: `input_shape=(32, 32, 1)` with the images padded, or
    `preprocessing` to resize them).

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with pooling, LayerNorm and the logits.
        pooling: with `include_top=False`: None, "avg" or "max".
        depths: blocks per stage.
        filters: channels per stage.
        width_multiplier: multiplies every width.
        dropout: dropout rate before the logits (torchvision's: none).
        features_only: the model returns every stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing`
            arguments (a dict): images of any size in, resized, cropped to
            `input_shape` and normalized inside the model (set by
            `zoo.create(..., weights=...)` from the entry).
        stochastic_depth_rate: the last block's drop rate (0: none); the
            rates grow linearly from 0 at the first block. Training only.
        layer_scale: initial value of each block's layer scale.
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("convnext_tiny", input_shape=(32, 32, 1), num_classes=10,
                       width_multiplier=0.25, depths=(1, 1, 2, 1))
    ```
    """

    #: the head's LayerNorm goes with the logits (another `num_classes`, `include_top=False`)
    head_layers = VisionClassifier.head_layers + "|head_norm"

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        depths=(3, 3, 9, 3),
        filters=(96, 192, 384, 768),
        width_multiplier=1.0,
        dropout=0.0,
        features_only=False,
        augment=None,
        preprocessing=None,
        stochastic_depth_rate=0.0,
        layer_scale=1e-6,
        **kwargs,
    ):
        self.depths = check_depths("depths", depths, None)
        self.stochastic_depth_rate = check_rate("stochastic_depth_rate", stochastic_depth_rate)
        self.layer_scale = check_positive("layer_scale", layer_scale)
        check_min_size(check_input_shape(input_shape, 3), 2 ** (len(self.depths) + 1),
                       "convnext")
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=len(self.depths), **kwargs)

    def build_stages(self, x):
        widths = [self.width(f) for f in self.filters]
        x = chain([layers.Conv2D(widths[0], 4, strides=4, kernel_initializer=INIT,
                                 name="stem_conv"), layer_norm("stem_norm")], x)
        total, index, stages = sum(self.depths), 0, []
        for s, (depth, width) in enumerate(zip(self.depths, widths)):
            if s > 0:
                x = chain([layer_norm(f"stage{s + 1}_downsample_norm"),
                           layers.Conv2D(width, 2, strides=2, kernel_initializer=INIT,
                                         name=f"stage{s + 1}_downsample_conv")], x)
            for b in range(depth):
                rate = self.stochastic_depth_rate * index / max(total - 1, 1)
                x = convnext_block(x, layer_scale=self.layer_scale, drop_rate=rate,
                                   name=f"stage{s + 1}_block{b}")
                index += 1
            x = stage_output(x, s + 1)
            stages.append(x)
        return stages

    def build_head(self, x):
        if not self.include_top:
            return self.classifier_head(x)
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layer_norm("head_norm")(x)
        if self.dropout:
            x = layers.Dropout(self.dropout, name="dropout")(x)
        return layers.Dense(self._zoo_num_classes, dtype="float32", kernel_initializer=INIT,
                            name="logits")(x)

    def get_config(self):
        return {**super().get_config(), "depths": self.depths,
                "stochastic_depth_rate": self.stochastic_depth_rate,
                "layer_scale": self.layer_scale}
