"""`DenseNet` (Huang et al. 2017): torchvision's ImageNet layout and DenseNet-BC for CIFAR."""

from keras import layers

from zoo.errors import UserValueError
from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import (
    batch_norm,
    chain,
    check_depths,
    check_stem,
    conv,
    min_input_size,
    stage_output,
)
from zoo.utils.checks import check_input_shape


def dense_layer(x, growth, *, bn_size=4, dropout=0.0, name):
    """BN-ReLU-1x1 conv (`bn_size` x growth)-BN-ReLU-3x3 conv (growth), Dropout: the
    `growth` new channels of one dense layer."""
    x = chain([batch_norm(f"{name}_bn1"), layers.ReLU(name=f"{name}_relu1"),
               *conv(bn_size * growth, 1, name=f"{name}_conv1"),
               batch_norm(f"{name}_bn2"), layers.ReLU(name=f"{name}_relu2"),
               *conv(growth, 3, name=f"{name}_conv2")], x)
    return layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout else x


def dense_block(x, depth, growth, *, bn_size=4, dropout=0.0, name):
    """`depth` dense layers, each fed the concatenation of every earlier output."""
    features = [x]
    for i in range(depth):
        inputs = features[0] if len(features) == 1 else layers.Concatenate(
            name=f"{name}_layer{i}_inputs")(features)
        features.append(dense_layer(inputs, growth, bn_size=bn_size, dropout=dropout,
                                    name=f"{name}_layer{i}"))
    return layers.Concatenate(name=f"{name}_out")(features)


def transition(x, filters, *, name):
    """BN-ReLU-1x1 conv (compressed width)-2x2 average pool."""
    return chain([batch_norm(f"{name}_bn"), layers.ReLU(name=f"{name}_relu"),
                  *conv(filters, 1, name=f"{name}_conv"),
                  layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")], x)


class DenseNet(VisionClassifier):
    """Densely connected network: dense blocks joined by compressing transitions.

    - ImageNet layout as torchvision's `densenet121/169/201` (growth 32, stem
      7x7/2 conv with 64 filters + 3x3/2 max-pool, bottleneck 4x growth,
      compression 0.5). Trainable parameters at 224x224x3 / 1000 classes equal
      torchvision 0.29's: densenet121 7,978,856; densenet169 14,149,480;
      densenet201 20,013,928; densenet161 (growth 48, 96-filter stem)
      28,681,000.
    - `densenet_bc_100`: DenseNet-BC (L=100, k=12) of Huang et al. 2017 for
      32x32 images: 3x3 conv with 2k filters, three blocks of 16 bottleneck
      layers, compression 0.5. 769,162 trainable parameters at 32x32x3 / 10
      classes (counted here; the paper's Table 2 gives 0.8M).

    Input sizes: the ImageNet stem needs inputs of at least 29x29 (its three
    2x2 average pools must still see a full window); `stem=None` picks the
    "small" stem (3x3/1 convolution, no pooling; from 8x8 for four blocks)
    below that, so 28x28 works; `stem="imagenet"` below 29x29 raises.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with BN-ReLU, global average pooling, Dense logits.
        pooling: with `include_top=False`: None, "avg" or "max".
        depths: dense layers per block.
        filters: growth rate of each block; the stem has 2x the first.
        width_multiplier: multiplies every width (growth rates, stem).
        dropout: dropout rate after each dense layer (the paper's 0.2 without
            augmentation; torchvision's `drop_rate`).
        features_only: the model returns each dense block's output (the last
            after the final BN-ReLU).
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing`
            arguments (a dict): images of any size in, resized, cropped to
            `input_shape` and normalized inside the model (set by
            `zoo.create(..., weights=...)` from the entry).
        stem: "imagenet", "small" or None (see above).
        bn_size: bottleneck width, in multiples of the growth rate.
        compression: transition width as a fraction of its input width.
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("densenet_bc_100", num_classes=100)
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        depths=(6, 12, 24, 16),
        filters=(32, 32, 32, 32),
        width_multiplier=1.0,
        dropout=0.0,
        features_only=False,
        augment=None,
        preprocessing=None,
        stem=None,
        bn_size=4,
        compression=0.5,
        **kwargs,
    ):
        self.depths = check_depths("depths", depths, None)
        if isinstance(bn_size, bool) or not isinstance(bn_size, int) or bn_size <= 0:
            raise UserValueError(f"`bn_size` must be an int > 0. Received: bn_size={bn_size!r}")
        if isinstance(compression, bool) or not isinstance(compression, (int, float)) or \
                not 0 < compression <= 1:
            raise UserValueError(
                f"`compression` must be in (0, 1]. Received: compression={compression!r}")
        self.bn_size, self.compression = bn_size, float(compression)
        pools = [(2, 2, 0)] * (len(self.depths) - 1)
        self.stem = check_stem(stem, check_input_shape(input_shape, 3), {
            "imagenet": min_input_size([(7, 2, 6), (3, 2, 2)] + pools),
            "small": min_input_size(pools),
        }, "densenet")
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=len(self.depths), **kwargs)

    def build_stages(self, x):
        channels = 2 * self.width(self.filters[0])
        if self.stem == "imagenet":
            x = chain([*conv(channels, 7, 2, name="stem_conv"), batch_norm("stem_bn"),
                       layers.ReLU(name="stem_relu"),
                       layers.ZeroPadding2D(1, name="stem_pool_pad"),
                       layers.MaxPooling2D(3, strides=2, name="stem_pool")], x)
        else:
            x = chain(conv(channels, 3, name="stem_conv"), x)
        stages = []
        for s, (depth, growth) in enumerate(zip(self.depths, self.filters)):
            growth = self.width(growth)
            x = dense_block(x, depth, growth, bn_size=self.bn_size, dropout=self.dropout,
                            name=f"block{s + 1}")
            channels += depth * growth
            if s < len(self.depths) - 1:
                x = stage_output(x, s + 1)
                stages.append(x)
                channels = max(1, int(channels * self.compression))
                x = transition(x, channels, name=f"transition{s + 1}")
        x = chain([batch_norm("final_bn"), layers.ReLU(name="final_relu")], x)
        stages.append(stage_output(x, len(self.depths)))
        return stages

    def get_config(self):
        return {**super().get_config(), "depths": self.depths, "stem": self.stem,
                "bn_size": self.bn_size, "compression": self.compression}
