"""`MobileNetV3` (Howard et al. 2019): searched inverted residuals, squeeze-excitation,
hard-swish."""

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
from zoo.utils.checks import check_fraction, check_positive, check_positive_int
from zoo.errors import UserValueError

ACTIVATIONS = ("relu", "hard_swish")


class MobileNetV3(VisionClassifier):
    """MobileNetV3 (Howard et al. 2019, arXiv:1905.02244), torchvision's layout.

    A 3x3/2 convolution stem (hard-swish), one inverted residual block per row of the
    paper's Tables 1 and 2 (1x1 expansion, depthwise `kernel_sizes`, squeeze-excitation
    with a hard-sigmoid gate where `squeeze_excitation`, linear 1x1 projection; ReLU or
    hard-swish per block), a 1x1 convolution to six times the last block's width
    (hard-swish), global pooling, a Dense layer of `head_units` (hard-swish), dropout
    and the logits. Every width goes through `make_divisible(width * multiplier, 8)`;
    a squeeze-excitation reduces to `make_divisible(expanded width // 4, 8)`. Trainable
    parameters at 224x224x3 / 1000 classes equal torchvision's: mobilenet_v3_small
    2,542,856; mobilenet_v3_large 5,483,032.

    The stages (`stage1` ... `stage5`) end where the resolution halves next and after
    the last convolution.

    timm's `mobilenetv3_*_100` checkpoints have this architecture with torch's default
    BatchNorm (`bn_epsilon=1e-5`, `bn_momentum=0.9`) and their Dense `head_units` layer
    stored as a 1x1 convolution (`conv_head`, which converts as it is).

    Args:
        input_shape: (height, width, channels); any size from 1x1.
        num_classes: number of logits.
        include_top: end with the classifier (pooling, `head_units`, dropout, logits).
        pooling: with `include_top=False`: None, "avg" or "max".
        filters: each block's output width.
        expanded_channels: each block's expanded width (the block has no expansion
            where it equals its input width).
        kernel_sizes: each block's depthwise kernel size.
        strides: each block's stride (1 or 2).
        squeeze_excitation: each block's squeeze-excitation (True or False).
        activations: each block's activation, "relu" or "hard_swish".
        stem_filters: width of the stem convolution.
        head_units: width of the Dense layer before the logits.
        width_multiplier: multiplies every width (torchvision's `width_mult`).
        dropout: dropout rate before the logits (torchvision's 0.2).
        bn_epsilon: BatchNorm epsilon (torchvision's 1e-3; timm's 1e-5).
        bn_momentum: BatchNorm momentum, keras's convention (torchvision's 0.01 is 0.99).
        features_only: the model returns every stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `ImagePreprocessing` arguments (set by weights entries).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("mobilenet_v3_small", input_shape=(32, 32, 1), num_classes=10)
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        filters=(16, 24, 24, 40, 40, 40, 80, 80, 80, 80, 112, 112, 160, 160, 160),
        expanded_channels=(16, 64, 72, 72, 120, 120, 240, 200, 184, 184, 480, 672, 672, 960,
                           960),
        kernel_sizes=(3, 3, 3, 5, 5, 5, 3, 3, 3, 3, 3, 3, 5, 5, 5),
        strides=(1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1),
        squeeze_excitation=(False, False, False, True, True, True, False, False, False, False,
                            True, True, True, True, True),
        activations=("relu",) * 6 + ("hard_swish",) * 9,
        stem_filters=16,
        head_units=1280,
        width_multiplier=1.0,
        dropout=0.2,
        bn_epsilon=1e-3,
        bn_momentum=0.99,
        features_only=False,
        augment=None,
        preprocessing=None,
        **kwargs,
    ):
        blocks = len(check_depths("filters", filters, None))
        self.expanded_channels = check_depths("expanded_channels", expanded_channels, blocks)
        self.kernel_sizes = check_depths("kernel_sizes", kernel_sizes, blocks)
        self.strides = check_strides(strides, blocks)
        self.squeeze_excitation = _check_sequence(
            "squeeze_excitation", squeeze_excitation, blocks, (True, False))
        self.activations = _check_sequence("activations", activations, blocks, ACTIVATIONS)
        self.stem_filters = check_positive_int("stem_filters", stem_filters)
        self.head_units = check_positive_int("head_units", head_units)
        self.bn_epsilon = check_positive("bn_epsilon", bn_epsilon)
        self.bn_momentum = check_fraction("bn_momentum", bn_momentum)
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=blocks, **kwargs)

    def width(self, w):
        return make_divisible(w * self.width_multiplier, 8)

    def build_stages(self, x):
        bn = {"bn_epsilon": self.bn_epsilon, "bn_momentum": self.bn_momentum}

        def bn_layer(name):
            return batch_norm(name, self.bn_epsilon, momentum=self.bn_momentum)

        x = chain([*conv(self.width(self.stem_filters), 3, 2, name="stem_conv"),
                   bn_layer("stem_bn"), activation_layer("hard_swish", "stem_act")], x)
        stages = []
        rows = zip(self.filters, self.expanded_channels, self.kernel_sizes, self.strides,
                   self.squeeze_excitation, self.activations)
        for i, (f, expanded, kernel, stride, se, act) in enumerate(rows):
            if stride > 1:
                stages.append(stage_output(x, len(stages) + 1))
                x = stages[-1]
            expanded = self.width(expanded)
            x = inverted_residual(x, self.width(f), expanded_channels=expanded,
                                  kernel_size=kernel, strides=stride, activation=act,
                                  se_channels=make_divisible(expanded // 4, 8) if se else None,
                                  se_activation="relu", se_gate="hard_sigmoid",
                                  name=f"block{i + 1}", **bn)
        # the last convolution: six times the last block's width (both published sizes)
        x = chain([*conv(6 * x.shape[-1], 1, name="last_conv"), bn_layer("last_bn"),
                   activation_layer("hard_swish", "last_act")], x)
        stages.append(stage_output(x, len(stages) + 1))
        return stages

    def build_head(self, x):
        return self.classifier_head(x, hidden_units=(self.width(self.head_units),),
                                    hidden_activation="hard_silu")

    def get_config(self):
        return {**super().get_config(), "expanded_channels": self.expanded_channels,
                "kernel_sizes": self.kernel_sizes, "strides": self.strides,
                "squeeze_excitation": self.squeeze_excitation, "activations": self.activations,
                "stem_filters": self.stem_filters, "head_units": self.head_units,
                "bn_epsilon": self.bn_epsilon, "bn_momentum": self.bn_momentum}


def _check_sequence(name, values, length, choices):
    """`length` values, each one of `choices` (True is not 1 here), as a tuple."""
    try:
        found = tuple(values)
    except TypeError:
        found = None
    if found is None or len(found) != length or any(
            not any(v == c and type(v) is type(c) for c in choices) for v in found):
        raise UserValueError(f"`{name}` must hold {length} values, each one of {list(choices)}. "
                             f"Received: {name}={values!r}")
    return found
