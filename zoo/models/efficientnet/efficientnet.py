"""`EfficientNet` (Tan & Le 2019) and EfficientNetV2 (Tan & Le 2021): MBConv and fused MBConv
stages, compound scaling, stochastic depth."""

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
from zoo.utils.checks import check_choice, check_fraction, check_positive, check_rate
from zoo.errors import UserValueError

BLOCKS = ("mbconv", "fused")


class EfficientNet(VisionClassifier):
    """EfficientNet V1 (arXiv:1905.11946) and V2 (arXiv:2104.00298), torchvision's layout.

    A 3x3/2 convolution stem, stages of MBConv blocks (1x1 expansion, depthwise
    convolution, squeeze-excitation reducing to `se_ratio` of the block's input width,
    linear 1x1 projection) or fused MBConv blocks (one full convolution in place of the
    expansion and the depthwise one, no squeeze-excitation), SiLU throughout, a 1x1
    convolution to `last_filters`, global pooling, dropout and the logits. A block whose
    input and output shapes agree adds its input back after stochastic depth: block `i`
    of `n` drops its branch at `stochastic_depth_rate * i / n` in training. V1's
    compound scaling: widths `make_divisible(width * width_multiplier, 8)`, depths
    `ceil(depth * depth_multiplier)`.

    Trainable parameters at 1000 classes equal torchvision's: efficientnet_b0
    5,288,548; b1 7,794,184; b2 9,109,994; b3 12,233,232; b4 19,341,616; b5 30,389,784;
    b6 43,040,704; b7 66,347,960; efficientnet_v2_s 21,458,488; v2_m 54,139,356; v2_l
    118,515,272. torchvision's BatchNorm epsilon is 1e-5 for B0-B4 and 1e-3 for B5-B7
    (ported from TensorFlow) and V2; timm's `efficientnet_b0` checkpoints have B0's
    architecture as it is here.

    The stages (`stage1` ... `stage5`) end where the resolution halves next (strides
    2, 4, 8, 16) and after the last convolution (stride 32).

    Args:
        input_shape: (height, width, channels); any size from 1x1.
        num_classes: number of logits.
        include_top: end with global average pooling, dropout and the logits.
        pooling: with `include_top=False`: None, "avg" or "max".
        filters: each stage's output width.
        depths: each stage's number of blocks.
        strides: the stride of each stage's first block (1 or 2).
        expand_ratios: each stage's expansion factor.
        kernel_sizes: each stage's kernel size.
        block_types: each stage's blocks, "mbconv" or "fused".
        stem_filters: width of the stem convolution.
        last_filters: width of the last 1x1 convolution; None: four times the last
            stage's width (V1).
        width_multiplier: multiplies every width (compound scaling).
        depth_multiplier: multiplies every depth, rounded up (compound scaling).
        se_ratio: squeeze-excitation width relative to a block's input width.
        dropout: dropout rate before the logits.
        stochastic_depth_rate: the deepest block's drop rate (training only).
        bn_epsilon: BatchNorm epsilon.
        bn_momentum: BatchNorm momentum, keras's convention (torch's 0.1 is 0.9).
        features_only: the model returns every stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `ImagePreprocessing` arguments (set by weights entries).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("efficientnet_b0", input_shape=(32, 32, 1), num_classes=10,
                       width_multiplier=0.5, depth_multiplier=0.5)
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        filters=(16, 24, 40, 80, 112, 192, 320),
        depths=(1, 2, 2, 3, 3, 4, 1),
        strides=(1, 2, 2, 2, 1, 2, 1),
        expand_ratios=(1, 6, 6, 6, 6, 6, 6),
        kernel_sizes=(3, 3, 5, 3, 5, 5, 3),
        block_types=("mbconv",) * 7,
        stem_filters=32,
        last_filters=None,
        width_multiplier=1.0,
        depth_multiplier=1.0,
        se_ratio=0.25,
        dropout=0.2,
        stochastic_depth_rate=0.2,
        bn_epsilon=1e-5,
        bn_momentum=0.9,
        features_only=False,
        augment=None,
        preprocessing=None,
        **kwargs,
    ):
        stages = len(check_depths("filters", filters, None))
        self.depths = check_depths("depths", depths, stages)
        self.strides = check_strides(strides, stages)
        self.expand_ratios = check_depths("expand_ratios", expand_ratios, stages)
        self.kernel_sizes = check_depths("kernel_sizes", kernel_sizes, stages)
        try:
            types = tuple(block_types)
        except TypeError:
            types = (block_types,)
        if len(types) != stages:
            raise UserValueError(f"`block_types` must hold {stages} values, one per stage. "
                                 f"Received: block_types={block_types!r}")
        self.block_types = tuple(check_choice("block_types", t, BLOCKS) for t in types)
        self.stem_filters = check_depths("stem_filters", (stem_filters,), 1)[0]
        self.last_filters = (None if last_filters is None
                             else check_depths("last_filters", (last_filters,), 1)[0])
        self.depth_multiplier = check_positive("depth_multiplier", depth_multiplier)
        self.se_ratio = check_fraction("se_ratio", se_ratio, high_open=False)
        self.stochastic_depth_rate = check_rate("stochastic_depth_rate", stochastic_depth_rate)
        self.bn_epsilon = check_positive("bn_epsilon", bn_epsilon)
        self.bn_momentum = check_fraction("bn_momentum", bn_momentum)
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=stages, **kwargs)

    def width(self, w):
        return make_divisible(w * self.width_multiplier, 8)

    def stage_depths(self):
        """Blocks per stage after the depth multiplier."""
        return tuple(math.ceil(d * self.depth_multiplier) for d in self.depths)

    def build_stages(self, x):
        bn = {"bn_epsilon": self.bn_epsilon, "bn_momentum": self.bn_momentum}

        def conv_bn_act(y, filters, kernel, stride, name):
            return chain([*conv(filters, kernel, stride, name=f"{name}_conv"),
                          batch_norm(f"{name}_bn", self.bn_epsilon, momentum=self.bn_momentum),
                          activation_layer("silu", f"{name}_act")], y)

        x = conv_bn_act(x, self.width(self.stem_filters), 3, 2, "stem")
        depths = self.stage_depths()
        total, index, stages = sum(depths), 0, []
        for s, depth in enumerate(depths):
            stride, ratio = self.strides[s], self.expand_ratios[s]
            fused = self.block_types[s] == "fused"
            for b in range(depth):
                if b == 0 and stride > 1:
                    stages.append(stage_output(x, len(stages) + 1))
                    x = stages[-1]
                in_channels = x.shape[-1]
                se = None if fused else max(1, int(in_channels * self.se_ratio))
                x = inverted_residual(
                    x, self.width(self.filters[s]),
                    expanded_channels=make_divisible(in_channels * ratio, 8),
                    kernel_size=self.kernel_sizes[s], strides=stride if b == 0 else 1,
                    activation="silu", se_channels=se, se_activation="silu",
                    se_gate="sigmoid", fused=fused,
                    drop_rate=self.stochastic_depth_rate * index / total,
                    name=f"block{s + 1}_{b}", **bn)
                index += 1
        last = (4 * x.shape[-1] if self.last_filters is None
                else self.width(self.last_filters))
        x = conv_bn_act(x, last, 1, 1, "last")
        stages.append(stage_output(x, len(stages) + 1))
        return stages

    def get_config(self):
        return {**super().get_config(), "depths": self.depths, "strides": self.strides,
                "expand_ratios": self.expand_ratios, "kernel_sizes": self.kernel_sizes,
                "block_types": self.block_types, "stem_filters": self.stem_filters,
                "last_filters": self.last_filters, "depth_multiplier": self.depth_multiplier,
                "se_ratio": self.se_ratio, "stochastic_depth_rate": self.stochastic_depth_rate,
                "bn_epsilon": self.bn_epsilon, "bn_momentum": self.bn_momentum}
