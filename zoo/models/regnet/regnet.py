"""`RegNet` (Radosavovic et al. 2020, "Designing Network Design Spaces"), torchvision's layout."""

from keras import layers

from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import (
    CONV_INIT,
    batch_norm,
    chain,
    check_depths,
    conv,
    stage_output,
)
from zoo.utils.checks import check_input_shape, check_non_negative, check_positive_int


def make_divisible(value, divisor):
    """torchvision's `_make_divisible`: `value` rounded to a multiple of `divisor`, never
    below `divisor` nor more than 10% below `value`."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def squeeze_excitation(x, squeeze_channels, *, name):
    """Global average pool, 1x1 conv (`squeeze_channels`, bias) + ReLU, 1x1 conv + sigmoid,
    times `x` (torchvision's `SqueezeExcitation` as RegNetY uses it)."""
    channels = x.shape[-1]
    s = chain([layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_pool"),
               *conv(squeeze_channels, 1, name=f"{name}_fc1", use_bias=True),
               layers.ReLU(name=f"{name}_relu"),
               *conv(channels, 1, name=f"{name}_fc2", use_bias=True),
               layers.Activation("sigmoid", name=f"{name}_gate")], x)
    return layers.Multiply(name=f"{name}_scale")([x, s])


def regnet_block(x, width, *, strides, group_width, se_ratio, name):
    """torchvision's `ResBottleneckBlock` (bottleneck multiplier 1): 1x1 conv-BN-ReLU,
    3x3 grouped conv (groups of `group_width` channels)-BN-ReLU, squeeze-excitation
    (RegNetY: `se_ratio` of the block's input width), 1x1 conv-BN, plus the input (a 1x1
    conv-BN projection where the shape changes), ReLU."""
    width_in = x.shape[-1]
    y = chain([*conv(width, 1, name=f"{name}_a_conv"), batch_norm(f"{name}_a_bn"),
               layers.ReLU(name=f"{name}_a_relu"),
               *conv(width, 3, strides, name=f"{name}_b_conv", groups=width // group_width),
               batch_norm(f"{name}_b_bn"), layers.ReLU(name=f"{name}_b_relu")], x)
    if se_ratio:
        y = squeeze_excitation(y, int(round(se_ratio * width_in)), name=f"{name}_se")
    y = chain([*conv(width, 1, name=f"{name}_c_conv"), batch_norm(f"{name}_c_bn")], y)
    if width_in != width or strides != 1:
        x = chain([layers.Conv2D(width, 1, strides=strides, use_bias=False,
                                 kernel_initializer=CONV_INIT, name=f"{name}_proj_conv"),
                   batch_norm(f"{name}_proj_bn")], x)
    y = layers.Add(name=f"{name}_add")([x, y])
    return layers.ReLU(name=f"{name}_out")(y)


class RegNet(VisionClassifier):
    """RegNetX and RegNetY: a 3x3/2 stem, four stages of residual bottleneck blocks with
    grouped 3x3 convolutions (and squeeze-excitation in RegNetY), pooled logits.

    The stage widths and depths are those torchvision derives from each
    variant's (depth, w_0, w_a, w_m, group width) quantised linear rule, stored
    in the table of variants (`regnet_variants.py`; a test holds them equal to
    torchvision's `BlockParams`). Bottleneck multiplier 1, stride 2 at the
    first block of every stage, BN (eps 1e-5) and ReLU as torchvision's.
    Trainable parameters at 224x224x3 / 1000 classes equal torchvision 0.28's
    (the counts are in each entry point's docstring, e.g. regnet_y_400mf
    4,344,144; regnet_x_400mf 5,495,976).

    A stage's group width is `min(group_width, stage width)` and its width a
    multiple of it (torchvision's rule), so `width_multiplier` gives valid
    networks at any value. Any input size builds (every convolution is padded).

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with global average pooling + Dense logits.
        pooling: with `include_top=False`: None, "avg" or "max".
        depths: blocks per stage.
        filters: width of each stage's blocks.
        width_multiplier: multiplies every width (the stem's too).
        dropout: dropout rate before the logits (torchvision's: none).
        features_only: the model returns every stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing`
            arguments (a dict): images of any size in, resized, cropped to
            `input_shape` and normalized inside the model (set by
            `zoo.create(..., weights=...)` from the entry).
        group_width: channels per group of the 3x3 convolutions.
        se_ratio: squeeze-excitation width as a fraction of the block's input
            width (RegNetY: 0.25); 0 leaves it out (RegNetX).
        stem_width: the stem's filters (32).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("regnet_y_400mf", input_shape=(32, 32, 1), num_classes=10)
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        depths=(1, 3, 6, 6),
        filters=(48, 104, 208, 440),
        width_multiplier=1.0,
        dropout=0.0,
        features_only=False,
        augment=None,
        preprocessing=None,
        group_width=8,
        se_ratio=0.25,
        stem_width=32,
        **kwargs,
    ):
        self.depths = check_depths("depths", depths, None)
        self.group_width = check_positive_int("group_width", group_width)
        self.se_ratio = check_non_negative("se_ratio", se_ratio)
        self.stem_width = check_positive_int("stem_width", stem_width)
        check_input_shape(input_shape, 3)
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=len(self.depths), **kwargs)

    def stage_widths(self):
        """[(width, group width)] of each stage, at this `width_multiplier`."""
        out = []
        for f in self.filters:
            width = self.width(f)
            group = min(self.group_width, width)
            out.append((make_divisible(width, group), group))
        return out

    def build_stages(self, x):
        x = chain([*conv(self.width(self.stem_width), 3, 2, name="stem_conv"),
                   batch_norm("stem_bn"), layers.ReLU(name="stem_relu")], x)
        stages = []
        for s, (depth, (width, group)) in enumerate(zip(self.depths, self.stage_widths())):
            for b in range(depth):
                x = regnet_block(x, width, strides=2 if b == 0 else 1, group_width=group,
                                 se_ratio=self.se_ratio, name=f"stage{s + 1}_block{b}")
            x = stage_output(x, s + 1)
            stages.append(x)
        return stages

    def get_config(self):
        return {**super().get_config(), "depths": self.depths, "group_width": self.group_width,
                "se_ratio": self.se_ratio, "stem_width": self.stem_width}
