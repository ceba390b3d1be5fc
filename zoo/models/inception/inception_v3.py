"""`InceptionV3` (Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer
Vision"), torchvision's layout."""

from keras import layers

from zoo.models.auxiliary_heads import AuxiliaryHeads
from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import CONV_INIT, batch_norm, chain, scale, stage_output
from zoo.utils.checks import check_bool, check_input_shape, check_non_negative
from zoo.errors import UserValueError


def conv_bn(x, filters, kernel_size, strides=1, padding="same", *, name):
    """torchvision's BasicConv2d: convolution without bias, BN (eps 1e-3), ReLU. torchvision's
    paddings are `kernel_size // 2` at stride 1 ("same") or none ("valid")."""
    return chain([layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                                use_bias=False, kernel_initializer=CONV_INIT,
                                name=f"{name}_conv"),
                  batch_norm(f"{name}_bn", epsilon=1e-3), layers.ReLU(name=f"{name}_relu")], x)


def _pool_layers(name):
    """torchvision's `avg_pool2d(3, stride=1, padding=1)`: the zero padding counts in the mean
    (`count_include_pad=True`), so it is padded explicitly."""
    return [layers.ZeroPadding2D(1, name=f"{name}_pad"),
            layers.AveragePooling2D(3, strides=1, name=name)]


def pool_branch(x, filters, *, name, pool_name):
    """torchvision's `branch_pool`: that average pool, then BasicConv2d 1x1. The pool and the
    1x1 convolution (no bias) are both linear and commute, so the zoo convolves first and pools
    the `filters` output channels instead of every input channel: the same function (and the
    same weights) for a fraction of the pooling work (Mixed_7c: 192 of 2048 channels)."""
    x = layers.Conv2D(filters, 1, use_bias=False, kernel_initializer=CONV_INIT,
                      name=f"{name}_conv")(x)
    return chain([*_pool_layers(pool_name), batch_norm(f"{name}_bn", epsilon=1e-3),
                  layers.ReLU(name=f"{name}_relu")], x)


def max_pool(x, *, name):
    return layers.MaxPooling2D(3, strides=2, name=name)(x)


def concat(branches, name):
    return layers.Concatenate(name=f"{name}_out")(branches)


def inception_a(x, pool_features, w, *, name):
    """35x35 module: 1x1; 1x1-5x5; 1x1-3x3-3x3; 3x3 average pool-1x1."""
    b5 = conv_bn(x, w(48), 1, name=f"{name}_branch5x5_1")
    b3 = conv_bn(x, w(64), 1, name=f"{name}_branch3x3dbl_1")
    b3 = conv_bn(b3, w(96), 3, name=f"{name}_branch3x3dbl_2")
    return concat([
        conv_bn(x, w(64), 1, name=f"{name}_branch1x1"),
        conv_bn(b5, w(64), 5, name=f"{name}_branch5x5_2"),
        conv_bn(b3, w(96), 3, name=f"{name}_branch3x3dbl_3"),
        pool_branch(x, w(pool_features), name=f"{name}_branch_pool", pool_name=f"{name}_pool"),
    ], name)


def inception_b(x, w, *, name):
    """Grid reduction 35 -> 17: 3x3/2; 1x1-3x3-3x3/2; 3x3/2 max pool."""
    b3 = conv_bn(x, w(64), 1, name=f"{name}_branch3x3dbl_1")
    b3 = conv_bn(b3, w(96), 3, name=f"{name}_branch3x3dbl_2")
    return concat([
        conv_bn(x, w(384), 3, 2, "valid", name=f"{name}_branch3x3"),
        conv_bn(b3, w(96), 3, 2, "valid", name=f"{name}_branch3x3dbl_3"),
        max_pool(x, name=f"{name}_pool"),
    ], name)


def inception_c(x, c7, w, *, name):
    """17x17 module with factorized 7x7 convolutions (1x7 and 7x1)."""
    b7 = conv_bn(x, w(c7), 1, name=f"{name}_branch7x7_1")
    b7 = conv_bn(b7, w(c7), (1, 7), name=f"{name}_branch7x7_2")
    d7 = x
    for i, (width, kernel) in enumerate([(c7, 1), (c7, (7, 1)), (c7, (1, 7)), (c7, (7, 1))]):
        d7 = conv_bn(d7, w(width), kernel, name=f"{name}_branch7x7dbl_{i + 1}")
    return concat([
        conv_bn(x, w(192), 1, name=f"{name}_branch1x1"),
        conv_bn(b7, w(192), (7, 1), name=f"{name}_branch7x7_3"),
        conv_bn(d7, w(192), (1, 7), name=f"{name}_branch7x7dbl_5"),
        pool_branch(x, w(192), name=f"{name}_branch_pool", pool_name=f"{name}_pool"),
    ], name)


def inception_d(x, w, *, name):
    """Grid reduction 17 -> 8: 1x1-3x3/2; 1x1-1x7-7x1-3x3/2; 3x3/2 max pool."""
    b3 = conv_bn(x, w(192), 1, name=f"{name}_branch3x3_1")
    b7 = conv_bn(x, w(192), 1, name=f"{name}_branch7x7x3_1")
    b7 = conv_bn(b7, w(192), (1, 7), name=f"{name}_branch7x7x3_2")
    b7 = conv_bn(b7, w(192), (7, 1), name=f"{name}_branch7x7x3_3")
    return concat([
        conv_bn(b3, w(320), 3, 2, "valid", name=f"{name}_branch3x3_2"),
        conv_bn(b7, w(192), 3, 2, "valid", name=f"{name}_branch7x7x3_4"),
        max_pool(x, name=f"{name}_pool"),
    ], name)


def inception_e(x, w, *, name):
    """8x8 module with expanded filter banks (1x3 and 3x1 side by side)."""
    b3 = conv_bn(x, w(384), 1, name=f"{name}_branch3x3_1")
    d3 = conv_bn(x, w(448), 1, name=f"{name}_branch3x3dbl_1")
    d3 = conv_bn(d3, w(384), 3, name=f"{name}_branch3x3dbl_2")
    return concat([
        conv_bn(x, w(320), 1, name=f"{name}_branch1x1"),
        conv_bn(b3, w(384), (1, 3), name=f"{name}_branch3x3_2a"),
        conv_bn(b3, w(384), (3, 1), name=f"{name}_branch3x3_2b"),
        conv_bn(d3, w(384), (1, 3), name=f"{name}_branch3x3dbl_3a"),
        conv_bn(d3, w(384), (3, 1), name=f"{name}_branch3x3dbl_3b"),
        pool_branch(x, w(192), name=f"{name}_branch_pool", pool_name=f"{name}_pool"),
    ], name)


def auxiliary_head(x, num_classes, w):
    """torchvision's InceptionAux on Mixed_6e: 5x5/3 average pool, 1x1 conv 128, 5x5 conv 768,
    global average pool, logits."""
    x = layers.AveragePooling2D(5, strides=3, name="aux_pool")(x)
    x = conv_bn(x, w(128), 1, name="aux_conv0")
    x = conv_bn(x, w(768), 5, padding="valid", name="aux_conv1")
    x = layers.GlobalAveragePooling2D(name="aux_avg_pool")(x)
    return layers.Dense(num_classes, dtype="float32", name="aux_logits")(x)


def _size_after(size, aux):
    """The map's side at Mixed_7c (`aux`: at the auxiliary head's 5x5 convolution)."""
    size = (size - 3) // 2 + 1 - 2  # Conv2d_1a_3x3 /2, Conv2d_2a_3x3
    size = (size - 3) // 2 + 1 - 2  # maxpool1, Conv2d_4a_3x3
    size = (size - 3) // 2 + 1  # maxpool2
    size = (size - 3) // 2 + 1  # Mixed_6a
    if aux:
        return (size - 5) // 3 + 1 - 4  # the auxiliary head's pool and 5x5 convolution
    return (size - 3) // 2 + 1  # Mixed_7a


class InceptionV3(AuxiliaryHeads, VisionClassifier):
    """Inception v3: a convolutional stem, three 35x35, five 17x17 and two 8x8 inception
    modules with two grid reductions, pooled logits.

    Layout as torchvision's `inception_v3` (BN eps 1e-3 after every
    convolution, no convolution bias, the average pools counting their zero
    padding). Trainable parameters at 299x299x3 / 1000 classes without the
    auxiliary head: 23,834,568, equal to torchvision 0.28's
    `inception_v3(aux_logits=False)`; with it (`aux_logits=True`) 27,161,264
    as torchvision's default.

    The auxiliary classifier (on Mixed_6e) is built only with `aux_logits=True`
    and counts only in training: `call(x, training=True)` then returns
    `(logits, aux)` and the training loss adds `aux_weight` (0.4, torchvision's
    recipe) times its loss; at inference the model returns the logits alone.

    torchvision's ImageNet weights were trained with `transform_input=True`
    (ImageNet-normalized inputs mapped to (x - 0.5) / 0.5): the
    `inception_v3.imagenet` entry's preprocessing normalizes with mean = std =
    0.5, which is the same.

    Inputs from 75x75 (299x299 with the auxiliary head). Smaller images (28x28
    Fashion-MNIST) are resized inside the model by `preprocessing`: with
    `input_shape=(75, 75, 1)`, `preprocessing={"resize": 75, "crop": 75, "mean": (0.0,),
    "std": (1.0,)}` takes pixel values 0-255 of any size to 75x75, divided by 255.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with global average pooling, Dropout, Dense logits.
        pooling: with `include_top=False`: None, "avg" or "max".
        filters: the widths of the stages' outputs (64, 192, 288, 768, 2048);
            every branch of a stage scales with it.
        width_multiplier: multiplies every width.
        dropout: dropout rate before the logits (0.5 as torchvision).
        features_only: the model returns each stage's output (Conv2d_2b_3x3,
            Conv2d_4a_3x3, Mixed_5d, Mixed_6e, Mixed_7c).
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing`
            arguments (a dict): images of any size in, resized, cropped to
            `input_shape` and normalized inside the model (set by
            `zoo.create(..., weights=...)` from the entry).
        aux_logits: add the auxiliary classifier (training only).
        aux_weight: weight of the auxiliary loss.
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("inception_v3", input_shape=(75, 75, 3), num_classes=10,
                       width_multiplier=0.25)
    ```
    """

    head_arguments = VisionClassifier.head_arguments + ("aux_logits",)
    function_preserving_arguments = VisionClassifier.function_preserving_arguments + (
        "aux_logits",)
    head_layers = r"logits|fc\d+|aux_\w+"

    def __init__(
        self,
        *,
        input_shape=(299, 299, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        filters=(64, 192, 288, 768, 2048),
        width_multiplier=1.0,
        dropout=0.5,
        features_only=False,
        augment=None,
        preprocessing=None,
        aux_logits=False,
        aux_weight=0.4,
        **kwargs,
    ):
        self.aux_logits = check_bool("aux_logits", aux_logits)
        self.aux_weight = check_non_negative("aux_weight", aux_weight)
        # the auxiliary head exists only with the classifier
        self.uses_aux = self.aux_logits and include_top and not features_only
        size = min(check_input_shape(input_shape, 3)[:2])
        if _size_after(size, self.uses_aux) < 1:
            minimum = 299 if self.uses_aux else 75
            what = "inception_v3 with aux_logits=True" if self.uses_aux else "inception_v3"
            raise UserValueError(f"{what} needs inputs of at least {minimum}x{minimum}. "
                                 f"Received: input_shape={input_shape}")
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=5, **kwargs)

    def build_stages(self, x):
        defaults = (64, 192, 288, 768, 2048)
        ratios = [self.width_multiplier * f / d for f, d in zip(self.filters, defaults)]

        def widths(stage):
            return lambda width: scale(width, ratios[stage])

        w = widths(0)
        x = conv_bn(x, w(32), 3, 2, "valid", name="Conv2d_1a_3x3")
        x = conv_bn(x, w(32), 3, padding="valid", name="Conv2d_2a_3x3")
        stages = [stage_output(conv_bn(x, w(64), 3, name="Conv2d_2b_3x3"), 1)]
        w = widths(1)
        x = max_pool(stages[-1], name="maxpool1")
        x = conv_bn(x, w(80), 1, name="Conv2d_3b_1x1")
        stages.append(stage_output(conv_bn(x, w(192), 3, padding="valid",
                                           name="Conv2d_4a_3x3"), 2))
        w = widths(2)
        x = max_pool(stages[-1], name="maxpool2")
        for name, pool_features in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
            x = inception_a(x, pool_features, w, name=name)
        stages.append(stage_output(x, 3))
        w = widths(3)
        x = inception_b(x, w, name="Mixed_6a")
        for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160),
                         ("Mixed_6e", 192)):
            x = inception_c(x, c7, w, name=name)
        stages.append(stage_output(x, 4))
        self.aux_input = x
        w = widths(4)
        x = inception_d(x, w, name="Mixed_7a")
        x = inception_e(x, w, name="Mixed_7b")
        stages.append(stage_output(inception_e(x, w, name="Mixed_7c"), 5))
        return stages

    def build_head(self, x):
        logits = self.classifier_head(x)
        # popped from __dict__: on torch a Module's __delattr__ runs before keras's init
        aux_input = self.__dict__.pop("aux_input")
        if not self.uses_aux:
            return logits
        ratio = self.width_multiplier * self.filters[3] / 768
        return [logits, auxiliary_head(aux_input, self._zoo_num_classes,
                                       lambda width: scale(width, ratio))]

    def get_config(self):
        return {**super().get_config(), "aux_logits": self.aux_logits,
                "aux_weight": self.aux_weight}
