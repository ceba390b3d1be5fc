"""ResNet (He et al. 2015/2016): torchvision's ImageNet layout and the CIFAR layout."""

from keras import layers, ops

from zoo.models._vision import batch_norm as _batch_norm
from zoo.models._vision import Block, CONV_INIT, VisionClassifier, apply, check_depths, conv
from zoo.registry import register
from zoo.utils.checks import check_bool, check_choice

_IMAGENET = {"input_shape": (224, 224, 3), "num_classes": 1000}
# He et al. 2016, sec. 4.2: 6n+2 layers, stages of 16/32/64 filters, option-A shortcuts
_CIFAR = {"block": "basic", "filters": (16, 32, 64), "stem": "small", "shortcut": "padding",
          "input_shape": (32, 32, 3), "num_classes": 10}


class ResidualBlock(Block):
    """A basic (two 3x3) or bottleneck (1x1-3x3-1x1, stride on the 3x3) residual block.

    The shortcut is the identity when shapes agree; otherwise a 1x1 convolution
    + BN ("projection", option B) or parameter-free subsampling with zero-padded
    channels ("padding", option A). Sublayers are named `f"{name}_conv1"`,
    `f"{name}_bn1"`, ..., `f"{name}_downsample_conv"` (torchvision's
    `layerS.B.conv1` is `stageS_blockB_conv1`).
    """

    def __init__(self, filters, in_channels, strides=1, bottleneck=False, shortcut="projection",
                 zero_init_residual=False, fast_batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        name = self.name
        self.fast_batch_norm = fast_batch_norm

        def batch_norm(bn_name, zero_gamma=False):
            return _batch_norm(bn_name, zero_gamma=zero_gamma, fast=fast_batch_norm)

        self.filters, self.in_channels, self.strides = filters, in_channels, strides
        self.bottleneck, self.shortcut = bottleneck, shortcut
        self.zero_init_residual = zero_init_residual
        if bottleneck:
            out = 4 * filters
            self.branch = [
                *conv(filters, 1, name=f"{name}_conv1"), batch_norm(f"{name}_bn1"), "relu",
                *conv(filters, 3, strides, name=f"{name}_conv2"), batch_norm(f"{name}_bn2"),
                "relu",
                *conv(out, 1, name=f"{name}_conv3"),
                batch_norm(f"{name}_bn3", zero_gamma=zero_init_residual),
            ]
        else:
            out = filters
            self.branch = [
                *conv(filters, 3, strides, name=f"{name}_conv1"), batch_norm(f"{name}_bn1"),
                "relu",
                *conv(filters, 3, name=f"{name}_conv2"),
                batch_norm(f"{name}_bn2", zero_gamma=zero_init_residual),
            ]
        self.out_channels = out
        self.project = None
        if (strides != 1 or in_channels != out) and shortcut == "projection":
            self.project = [
                layers.Conv2D(out, 1, strides=strides, use_bias=False,
                              kernel_initializer=CONV_INIT, name=f"{name}_downsample_conv"),
                batch_norm(f"{name}_downsample_bn"),
            ]

    def call(self, x, training=False):
        y = x
        for layer in self.branch:
            y = ops.relu(y) if layer == "relu" else apply([layer], y, training)
        if self.project is not None:
            x = apply(self.project, x, training)
        elif self.strides != 1 or self.in_channels != self.out_channels:
            # option A: subsample, then zero channels up to the new width
            if self.strides != 1:
                x = x[:, :: self.strides, :: self.strides, :]
            extra = self.out_channels - self.in_channels
            x = ops.pad(x, [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])
        return ops.relu(ops.add(y, x))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "in_channels": self.in_channels,
                "strides": self.strides, "bottleneck": self.bottleneck,
                "shortcut": self.shortcut, "zero_init_residual": self.zero_init_residual,
                "fast_batch_norm": self.fast_batch_norm}


@register(
    family="resnet",
    variants={
        "resnet18": {"block": "basic", "depths": (2, 2, 2, 2), **_IMAGENET},
        "resnet34": {"block": "basic", "depths": (3, 4, 6, 3), **_IMAGENET},
        "resnet50": {"block": "bottleneck", "depths": (3, 4, 6, 3), **_IMAGENET},
        "resnet101": {"block": "bottleneck", "depths": (3, 4, 23, 3), **_IMAGENET},
        "resnet152": {"block": "bottleneck", "depths": (3, 8, 36, 3), **_IMAGENET},
        "resnet20": {"depths": (3, 3, 3), **_CIFAR},
        "resnet32": {"depths": (5, 5, 5), **_CIFAR},
        "resnet44": {"depths": (7, 7, 7), **_CIFAR},
        "resnet56": {"depths": (9, 9, 9), **_CIFAR},
        "resnet110": {"depths": (18, 18, 18), **_CIFAR},
    },
)
class ResNet(VisionClassifier):
    """Residual network: a stem, stages of residual blocks, global pooling, logits.

    One builder for both layouts:

    - ImageNet (torchvision): 7x7/2 conv + 3x3/2 max-pool stem, four stages of
      basic (18, 34) or bottleneck (50, 101, 152) blocks with stride 2 on the
      3x3 convolution (ResNet v1.5), projection shortcuts, no convolution bias
      before BN. Trainable parameters at 224x224x3 / 1000 classes equal
      torchvision 0.29's `sum(p.numel() for p in model.parameters())`:
      resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032;
      resnet101 44,549,160; resnet152 60,192,808. (`count_params()` adds
      the BN moving mean/variance, torchvision's buffers: e.g. resnet50
      25,610,152.)
    - CIFAR (He et al. 2016, "Deep Residual Learning", sec. 4.2): 3x3 conv with
      16 filters, three stages of n basic blocks (16, 32, 64 filters), option-A
      shortcuts (identity; stride-2 subsampling with zero-padded channels, no
      parameters). Trainable parameters at 32x32x3 / 10 classes, counted here
      (paper's Table 6 rounds them): resnet20 269,722 (0.27M); resnet32
      464,154 (0.46M); resnet44 658,586 (0.66M); resnet56 853,018 (0.85M);
      resnet110 1,727,962 (1.7M).

    Works on any input size (the ImageNet stem leaves a 1x1 map for 28x28
    inputs; `stem="small"` keeps the full resolution in the stem instead).

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
        features_only: `call` returns every stage's output.
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
        fast_batch_norm: one-pass batch statistics in training (E[x^2] -
            E[x]^2, one read of the activations instead of two; see
            `zoo.models._vision.BatchNormalization`). A speed option for
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
        **kwargs,
    ):
        self.block = check_choice("block", block, ("basic", "bottleneck"))
        self.depths = check_depths("depths", depths, None)
        self.shortcut = check_choice("shortcut", shortcut, ("projection", "padding"))
        self.zero_init_residual = check_bool("zero_init_residual", zero_init_residual)
        self.fast_batch_norm = check_bool("fast_batch_norm", fast_batch_norm)
        super().__init__(input_shape, num_classes, include_top, pooling, filters,
                         width_multiplier, dropout, features_only, augment,
                         preprocessing=preprocessing, num_stages=len(self.depths), **kwargs)
        self.stem = self._check_stem(stem, {"imagenet": 1, "small": 1}, "resnet")
        width0 = self.width(self.filters[0])
        stem_bn = _batch_norm("stem_bn", fast=self.fast_batch_norm)
        if self.stem == "imagenet":
            self.stem_layers = [*conv(width0, 7, 2, name="stem_conv"), stem_bn,
                                layers.ReLU(name="stem_relu"),
                                layers.ZeroPadding2D(1, name="stem_pool_pad"),
                                layers.MaxPooling2D(3, strides=2, name="stem_pool")]
        else:
            self.stem_layers = [*conv(width0, 3, name="stem_conv"), stem_bn,
                                layers.ReLU(name="stem_relu")]
        bottleneck = self.block == "bottleneck"
        channels = width0
        self.stages = []
        for s, (depth, f) in enumerate(zip(self.depths, self.filters)):
            blocks = []
            for b in range(depth):
                strides = 2 if (b == 0 and s > 0) else 1
                blk = ResidualBlock(self.width(f), channels, strides, bottleneck, self.shortcut,
                                    self.zero_init_residual, self.fast_batch_norm,
                                    name=f"stage{s + 1}_block{b}")
                channels = blk.out_channels
                blocks.append(blk)
            self.stages.append(blocks)
        self._make_head()
        self.build_now()

    def get_config(self):
        return {**super().get_config(), "block": self.block, "depths": self.depths,
                "stem": self.stem, "shortcut": self.shortcut,
                "zero_init_residual": self.zero_init_residual,
                "fast_batch_norm": self.fast_batch_norm}
