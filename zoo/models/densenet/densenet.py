"""DenseNet (Huang et al. 2017): torchvision's ImageNet layout and DenseNet-BC for CIFAR."""

from keras import layers, ops

from zoo.models._vision import (
    Block,
    VisionClassifier,
    apply,
    batch_norm,
    check_depths,
    conv,
    min_input_size,
)


class DenseLayer(Block):
    """BN-ReLU-1x1 conv (`bn_size` x growth)-BN-ReLU-3x3 conv (growth), Dropout."""

    def __init__(self, growth, bn_size=4, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.growth, self.bn_size, self.dropout = growth, bn_size, dropout
        n = self.name
        self.norm1 = batch_norm(f"{n}_bn1")
        self.conv1 = conv(bn_size * growth, 1, name=f"{n}_conv1")
        self.norm2 = batch_norm(f"{n}_bn2")
        self.conv2 = conv(growth, 3, name=f"{n}_conv2")
        self.drop = layers.Dropout(dropout, name=f"{n}_dropout") if dropout else None

    def call(self, x, training=False):
        x = apply(self.conv1, ops.relu(self.norm1(x, training=training)))
        x = apply(self.conv2, ops.relu(self.norm2(x, training=training)))
        if self.drop is not None:
            x = self.drop(x, training=training)
        return x

    def get_config(self):
        return {**super().get_config(), "growth": self.growth, "bn_size": self.bn_size,
                "dropout": self.dropout}


class DenseBlock(Block):
    """`depth` dense layers, each fed the concatenation of every earlier output."""

    def __init__(self, depth, growth, bn_size=4, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.depth, self.growth, self.bn_size, self.dropout = depth, growth, bn_size, dropout
        self.dense_layers = [DenseLayer(growth, bn_size, dropout, name=f"{self.name}_layer{i}")
                             for i in range(depth)]

    def call(self, x, training=False):
        features = [x]
        for layer in self.dense_layers:
            inputs = features[0] if len(features) == 1 else ops.concatenate(features, axis=-1)
            features.append(layer(inputs, training=training))
        return ops.concatenate(features, axis=-1)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth, "growth": self.growth,
                "bn_size": self.bn_size, "dropout": self.dropout}


class Transition(Block):
    """BN-ReLU-1x1 conv (compressed width)-2x2 average pool."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.norm = batch_norm(f"{self.name}_bn")
        self.conv = conv(filters, 1, name=f"{self.name}_conv")
        self.pool = layers.AveragePooling2D(2, strides=2, name=f"{self.name}_pool")

    def call(self, x, training=False):
        return self.pool(apply(self.conv, ops.relu(self.norm(x, training=training))))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


class DenseNet(VisionClassifier):
    """Densely connected network: dense blocks joined by compressing transitions.

    - ImageNet layout as torchvision's `densenet121/169/201` (growth 32, stem
      7x7/2 conv with 64 filters + 3x3/2 max-pool, bottleneck 4x growth,
      compression 0.5). Trainable parameters at 224x224x3 / 1000 classes equal
      torchvision 0.29's: densenet121 7,978,856; densenet169 14,149,480;
      densenet201 20,013,928.
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
        features_only: `call` returns each dense block's output (the last
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
            raise ValueError(f"`bn_size` must be an int > 0. Received: bn_size={bn_size!r}")
        if isinstance(compression, bool) or not isinstance(compression, (int, float)) or \
                not 0 < compression <= 1:
            raise ValueError(
                f"`compression` must be in (0, 1]. Received: compression={compression!r}")
        self.bn_size, self.compression = bn_size, float(compression)
        super().__init__(input_shape, num_classes, include_top, pooling, filters,
                         width_multiplier, dropout, features_only, augment,
                         preprocessing=preprocessing, num_stages=len(self.depths), **kwargs)
        pools = [(2, 2, 0)] * (len(self.depths) - 1)
        self.stem = self._check_stem(stem, {
            "imagenet": min_input_size([(7, 2, 6), (3, 2, 2)] + pools),
            "small": min_input_size(pools),
        }, "densenet")
        channels = 2 * self.width(self.filters[0])
        if self.stem == "imagenet":
            self.stem_layers = [*conv(channels, 7, 2, name="stem_conv"), batch_norm("stem_bn"),
                                layers.ReLU(name="stem_relu"),
                                layers.ZeroPadding2D(1, name="stem_pool_pad"),
                                layers.MaxPooling2D(3, strides=2, name="stem_pool")]
        else:
            self.stem_layers = conv(channels, 3, name="stem_conv")
        self.blocks, self.transitions = [], []
        for s, (depth, growth) in enumerate(zip(self.depths, self.filters)):
            growth = self.width(growth)
            self.blocks.append(DenseBlock(depth, growth, bn_size, self.dropout,
                                          name=f"block{s + 1}"))
            channels += depth * growth
            if s < len(self.depths) - 1:
                channels = max(1, int(channels * self.compression))
                self.transitions.append(Transition(channels, name=f"transition{s + 1}"))
        self.final_layers = [batch_norm("final_bn"), layers.ReLU(name="final_relu")]
        self._make_head()
        self.build_now()

    def stage_outputs(self, inputs, training=False):
        x = apply(self.stem_layers, inputs, training)
        outputs = []
        for i, block in enumerate(self.blocks):
            x = block(x, training=training)
            if i < len(self.transitions):
                outputs.append(x)
                x = self.transitions[i](x, training=training)
        outputs.append(apply(self.final_layers, x, training))
        return outputs

    def get_config(self):
        return {**super().get_config(), "depths": self.depths, "stem": self.stem,
                "bn_size": self.bn_size, "compression": self.compression}
