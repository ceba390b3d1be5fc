"""`MobileNetV2` (Sandler et al. 2018): inverted residuals with linear bottlenecks."""

import math

from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import (
    activation_layer,
    batch_norm,
    chain,
    check_depths,
    check_strides,
    conv,
    inverted_residual,
    make_divisible,
    stage_output,
)
from zoo.utils.checks import check_positive, check_positive_int


class MobileNetV2(VisionClassifier):
    """MobileNetV2 (Sandler et al. 2018, arXiv:1801.04381), torchvision's layout.

    A 3x3/2 convolution stem, groups of inverted residual blocks (1x1 expansion by
    `expand_ratios`, 3x3 depthwise, linear 1x1 projection; ReLU6; the input added back
    where the shapes agree), a 1x1 convolution to `last_filters`, global pooling,
    dropout and the logits. Widths go through `make_divisible(width * multiplier, 8)`
    as torchvision's (`last_filters` only grows with the multiplier); the expanded
    width is `round(input width * ratio)`. Trainable parameters at 224x224x3 / 1000
    classes equal torchvision's: mobilenet_v2 3,504,872.

    The stages (`features_only`, `stage1` ... `stage5`) end where the resolution
    halves next (strides 2, 4, 8, 16) and after the last convolution (stride 32).

    Args:
        input_shape: (height, width, channels); any size from 1x1.
        num_classes: number of logits.
        include_top: end with global average pooling, dropout and the logits.
        pooling: with `include_top=False`: None, "avg" or "max".
        filters: output width of each group of blocks (Table 2's c).
        depths: blocks per group (n); `depth_multiplier` scales them (rounded up).
        strides: the stride of each group's first block (s).
        expand_ratios: each group's expansion factor (t).
        stem_filters: width of the stem convolution.
        last_filters: width of the last 1x1 convolution.
        width_multiplier: multiplies every width (torchvision's `width_mult`).
        depth_multiplier: multiplies every group's depth (1.0: the paper's).
        dropout: dropout rate before the logits (torchvision's 0.2).
        bn_epsilon: BatchNorm epsilon (torch's default 1e-5).
        features_only: the model returns every stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `ImagePreprocessing` arguments (set by weights entries).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("mobilenet_v2", input_shape=(32, 32, 1), num_classes=10,
                       width_multiplier=0.5)
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        filters=(16, 24, 32, 64, 96, 160, 320),
        depths=(1, 2, 3, 4, 3, 3, 1),
        strides=(1, 2, 2, 2, 1, 2, 1),
        expand_ratios=(1, 6, 6, 6, 6, 6, 6),
        stem_filters=32,
        last_filters=1280,
        width_multiplier=1.0,
        depth_multiplier=1.0,
        dropout=0.2,
        bn_epsilon=1e-5,
        features_only=False,
        augment=None,
        preprocessing=None,
        **kwargs,
    ):
        groups = len(check_depths("filters", filters, None))
        self.depths = check_depths("depths", depths, groups)
        self.strides = check_strides(strides, groups)
        self.expand_ratios = check_depths("expand_ratios", expand_ratios, groups)
        self.stem_filters = check_positive_int("stem_filters", stem_filters)
        self.last_filters = check_positive_int("last_filters", last_filters)
        self.depth_multiplier = check_positive("depth_multiplier", depth_multiplier)
        self.bn_epsilon = check_positive("bn_epsilon", bn_epsilon)
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=groups, **kwargs)

    def width(self, w):
        return make_divisible(w * self.width_multiplier, 8)

    def build_stages(self, x):
        bn = {"bn_epsilon": self.bn_epsilon}
        x = chain([*conv(self.width(self.stem_filters), 3, 2, name="stem_conv"),
                   batch_norm("stem_bn", self.bn_epsilon), activation_layer("relu6", "stem_act")],
                  x)
        stages, index = [], 1
        for f, depth, stride, ratio in zip(self.filters, self.depths, self.strides,
                                           self.expand_ratios):
            for b in range(math.ceil(depth * self.depth_multiplier)):
                if b == 0 and stride > 1:
                    x = stage_output(x, len(stages) + 1)
                    stages.append(x)
                x = inverted_residual(x, self.width(f),
                                      expanded_channels=int(round(x.shape[-1] * ratio)),
                                      strides=stride if b == 0 else 1, activation="relu6",
                                      name=f"block{index}", **bn)
                index += 1
        last = make_divisible(self.last_filters * max(1.0, self.width_multiplier), 8)
        x = chain([*conv(last, 1, name="last_conv"), batch_norm("last_bn", self.bn_epsilon),
                   activation_layer("relu6", "last_act")], x)
        stages.append(stage_output(x, len(stages) + 1))
        return stages

    def get_config(self):
        return {**super().get_config(), "depths": self.depths, "strides": self.strides,
                "expand_ratios": self.expand_ratios, "stem_filters": self.stem_filters,
                "last_filters": self.last_filters, "depth_multiplier": self.depth_multiplier,
                "bn_epsilon": self.bn_epsilon}
