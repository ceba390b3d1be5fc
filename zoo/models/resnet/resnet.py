"""`ResNet` (He et al. 2015/2016): torchvision's ImageNet layout and the CIFAR layout."""

from keras import layers, ops

from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import (
    CONV_INIT,
    batch_norm,
    chain,
    check_depths,
    check_stem,
    conv,
    stage_output,
)
from zoo.utils.checks import (
    check_bool,
    check_choice,
    check_input_shape,
    check_positive_int,
)
from zoo.errors import UserValueError


def residual_block(x, filters, *, strides=1, bottleneck=False, shortcut="projection",
                   zero_init_residual=False, fast_batch_norm=False, groups=1,
                   width_per_group=64, name):
    """A basic (two 3x3) or bottleneck (1x1-3x3-1x1, stride on the 3x3) residual block.

    A bottleneck's inner width is `int(filters * width_per_group / 64) * groups`
    and its 3x3 convolution has `groups` groups, as torchvision's: ResNeXt
    (`groups=32, width_per_group=4`) and Wide ResNet (`width_per_group=128`).

    The shortcut is the identity when shapes agree; otherwise a 1x1 convolution
    + BN ("projection", option B) or parameter-free subsampling with zero-padded
    channels ("padding", option A). Layers are named `f"{name}_conv1"`,
    `f"{name}_bn1"`, ..., `f"{name}_downsample_conv"`, and the block's output
    `f"{name}_out"` (torchvision's `layerS.B.conv1` is `stageS_blockB_conv1`).
    """
    in_channels = x.shape[-1]

    def bn(suffix, zero_gamma=False):
        return batch_norm(f"{name}_{suffix}", zero_gamma=zero_gamma, fast=fast_batch_norm)

    if bottleneck:
        out = 4 * filters
        inner = max(1, int(filters * (width_per_group / 64.0))) * groups
        y = chain([*conv(inner, 1, name=f"{name}_conv1"), bn("bn1"),
                   layers.ReLU(name=f"{name}_relu1"),
                   *conv(inner, 3, strides, name=f"{name}_conv2", groups=groups), bn("bn2"),
                   layers.ReLU(name=f"{name}_relu2"),
                   *conv(out, 1, name=f"{name}_conv3"), bn("bn3", zero_init_residual)], x)
    else:
        out = filters
        y = chain([*conv(filters, 3, strides, name=f"{name}_conv1"), bn("bn1"),
                   layers.ReLU(name=f"{name}_relu1"),
                   *conv(filters, 3, name=f"{name}_conv2"), bn("bn2", zero_init_residual)], x)
    if strides != 1 or in_channels != out:
        if shortcut == "projection":
            x = chain([layers.Conv2D(out, 1, strides=strides, use_bias=False,
                                     kernel_initializer=CONV_INIT,
                                     name=f"{name}_downsample_conv"),
                       bn("downsample_bn")], x)
        else:  # option A: subsample, then zero channels up to the new width
            if strides != 1:
                x = x[:, ::strides, ::strides, :]
            extra = out - in_channels
            x = ops.pad(x, [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])
    y = layers.Add(name=f"{name}_add")([y, x])
    return layers.ReLU(name=f"{name}_out")(y)


class ResNet(VisionClassifier):
    """Residual network: a stem, stages of residual blocks, global pooling, logits.

    One builder for both layouts:

    - ImageNet (torchvision): 7x7/2 conv + 3x3/2 max-pool stem, four stages of
      basic (18, 34) or bottleneck (50, 101, 152) blocks with stride 2 on the
      3x3 convolution (ResNet v1.5), projection shortcuts, no convolution bias
      before BN. Trainable parameters at 224x224x3 / 1000 classes equal
      torchvision 0.29's `sum(p.numel() for p in model.parameters())`:
      resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032;
      resnet101 44,549,160; resnet152 60,192,808; with grouped 3x3
      convolutions (ResNeXt, Xie et al. 2017) resnext50_32x4d 25,028,904;
      resnext101_32x8d 88,791,336; resnext101_64x4d 83,455,272; with wider
      bottlenecks (Wide ResNet, Zagoruyko & Komodakis 2016) wide_resnet50_2
      68,883,240; wide_resnet101_2 126,886,696. (`count_params()` adds the BN
      moving mean/variance, torchvision's buffers: e.g. resnet50 25,610,152.)
    - CIFAR (He et al. 2016, "Deep Residual Learning", sec. 4.2): 3x3 conv with
      16 filters, three stages of n basic blocks (16, 32, 64 filters), option-A
      shortcuts (identity; stride-2 subsampling with zero-padded channels, no
      parameters). Trainable parameters at 32x32x3 / 10 classes, counted here
      (paper's Table 6 rounds them): resnet20 269,722 (0.27M); resnet32
      464,154 (0.46M); resnet44 658,586 (0.66M); resnet56 853,018 (0.85M);
      resnet110 1,727,962 (1.7M).

    The named variants are in `resnet_variants.py`. Any input size from 1x1
    builds (the ImageNet stem leaves a 1x1 map for 28x28 inputs;
    `stem="small"` keeps the full resolution in the stem instead).

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with global average pooling + Dense logits.
        pooling: with `include_top=False`: None, "avg" or "max".
        block: "basic" or "bottleneck" (whose output has 4x `filters`).
        depths: blocks per stage.
        filters: per-stage block width; the stem has `filters[0]`.
        width_multiplier: multiplies every width.
        dropout: dropout rate before the logits.
        features_only: the model returns every stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing`
            arguments (a dict): images of any size in, resized, cropped to
            `input_shape` and normalized inside the model (set by
            `zoo.create(..., weights=...)` from the entry).
        stem: "imagenet" (7x7/2 conv, 3x3/2 max-pool), "small" (3x3/1 conv)
            or None ("imagenet" here: every input size is supported).
        shortcut: "projection" (1x1 conv + BN where shapes change, option B)
            or "padding" (option A, parameter-free).
        zero_init_residual: start each block's last BN scale at 0 (Goyal et
            al. 2017), so every block begins as the identity.
        groups: groups of each bottleneck's 3x3 convolution (ResNeXt's
            cardinality; bottleneck blocks only).
        width_per_group: each group's width at 64 filters: a bottleneck is
            `int(filters * width_per_group / 64) * groups` wide (64: ResNet;
            128: Wide ResNet-2; ResNeXt 32x4d: groups=32, width_per_group=4).
        fast_batch_norm: one-pass batch statistics in training (E[x^2] -
            E[x]^2, one read of the activations instead of two; see
            `zoo.models.batch_normalization.BatchNormalization`). A speed option for
            XLA (JAX, TF with jit_compile); results agree to float rounding.
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("resnet18", input_shape=(28, 28, 1), num_classes=10, stem="small")
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9))
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        block="basic",
        depths=(2, 2, 2, 2),
        filters=(64, 128, 256, 512),
        width_multiplier=1.0,
        dropout=0.0,
        features_only=False,
        augment=None,
        preprocessing=None,
        stem=None,
        shortcut="projection",
        zero_init_residual=False,
        fast_batch_norm=False,
        groups=1,
        width_per_group=64,
        **kwargs,
    ):
        self.block = check_choice("block", block, ("basic", "bottleneck"))
        self.groups = check_positive_int("groups", groups)
        self.width_per_group = check_positive_int("width_per_group", width_per_group)
        if block == "basic" and (groups, width_per_group) != (1, 64):
            raise UserValueError(
                "Basic blocks have no grouped or widened 3x3 convolution (as torchvision's): "
                "use block='bottleneck'. Received: "
                f"groups={groups!r}, width_per_group={width_per_group!r} with block='basic'")
        self.depths = check_depths("depths", depths, None)
        self.shortcut = check_choice("shortcut", shortcut, ("projection", "padding"))
        self.zero_init_residual = check_bool("zero_init_residual", zero_init_residual)
        self.fast_batch_norm = check_bool("fast_batch_norm", fast_batch_norm)
        self.stem = check_stem(stem, check_input_shape(input_shape, 3),
                               {"imagenet": 1, "small": 1}, "resnet")
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=len(self.depths), **kwargs)

    def build_stages(self, x):
        width0 = self.width(self.filters[0])
        stem_bn = batch_norm("stem_bn", fast=self.fast_batch_norm)
        if self.stem == "imagenet":
            x = chain([*conv(width0, 7, 2, name="stem_conv"), stem_bn,
                       layers.ReLU(name="stem_relu"),
                       layers.ZeroPadding2D(1, name="stem_pool_pad"),
                       layers.MaxPooling2D(3, strides=2, name="stem_pool")], x)
        else:
            x = chain([*conv(width0, 3, name="stem_conv"), stem_bn,
                       layers.ReLU(name="stem_relu")], x)
        stages = []
        for s, (depth, f) in enumerate(zip(self.depths, self.filters)):
            for b in range(depth):
                x = residual_block(x, self.width(f), strides=2 if (b == 0 and s > 0) else 1,
                                   bottleneck=self.block == "bottleneck",
                                   shortcut=self.shortcut,
                                   zero_init_residual=self.zero_init_residual,
                                   fast_batch_norm=self.fast_batch_norm,
                                   groups=self.groups, width_per_group=self.width_per_group,
                                   name=f"stage{s + 1}_block{b}")
            x = stage_output(x, s + 1)
            stages.append(x)
        return stages

    def get_config(self):
        return {**super().get_config(), "block": self.block, "depths": self.depths,
                "stem": self.stem, "shortcut": self.shortcut,
                "zero_init_residual": self.zero_init_residual,
                "fast_batch_norm": self.fast_batch_norm, "groups": self.groups,
                "width_per_group": self.width_per_group}
