"""Shared pieces of the vision families: argument checks, stems' size limits, heads.

Every vision family (alexnet, vgg, googlenet, resnet, densenet) subclasses
`VisionClassifier`, which owns the arguments they have in common (`include_top`,
`pooling`, `filters`, `width_multiplier`, `dropout`, `features_only`) and the
forward pass around the family's stages: `call` = `stage_outputs` then the head.
"""

import keras
from keras import layers, ops

from zoo.models.base import ZooClassifier
from zoo.training import fused_batch_norm
from zoo.utils.checks import (
    check_bool,
    check_choice,
    check_input_shape,
    check_rate,
    check_widths,
)
from zoo.models.pooling import AdaptiveAveragePooling2D
from zoo.models.preprocessing import ImagePreprocessing

#: torchvision's `kaiming_normal_(mode="fan_out", nonlinearity="relu")` for convolutions
CONV_INIT = {"class_name": "VarianceScaling",
             "config": {"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"}}

STEMS = (None, "imagenet", "small")
POOLINGS = (None, "avg", "max")


def check_multiplier(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(
            f"`width_multiplier` must be a number > 0. Received: width_multiplier={value!r}"
        )
    return float(value)


def check_depths(name, depths, length):
    depths = check_widths(name, depths, allow_empty=False)
    if length is not None and len(depths) != length:
        raise ValueError(
            f"`{name}` must hold {length} ints > 0, one per stage. Received: {name}={depths!r}"
        )
    return depths


def check_pool_size(name, value):
    """None, or (height, width) of positive ints."""
    if value is None:
        return None
    size = check_widths(name, value, allow_empty=False)
    if len(size) != 2:
        raise ValueError(f"`{name}` must be None or (height, width). Received: {name}={value!r}")
    return size


def scale(width, multiplier):
    """`width * multiplier`, rounded, at least 1."""
    return max(1, int(round(width * multiplier)))


def spatial_size(size, ops_list):
    """Output size of one spatial dimension after `[(kernel, stride, pad), ...]`.

    `pad` is the total padding (torch's `2 * padding`), or "same" (output
    `ceil(size / stride)`). Returns 0 once a window no longer fits.
    """
    for kernel, stride, pad in ops_list:
        if pad == "same":
            size = -(-size // stride)
        else:
            size = (size + pad - kernel) // stride + 1
        if size < 1:
            return 0
    return size


def min_input_size(ops_list, limit=4096):
    """Smallest spatial size for which every op in `ops_list` still has an output."""
    for size in range(1, limit):
        if spatial_size(size, ops_list) >= 1:
            return size
    raise ValueError(f"no input size up to {limit} fits")  # pragma: no cover


def conv(filters, kernel_size, strides=1, name=None, use_bias=False):
    """A Conv2D padded like torch's `padding=kernel_size // 2`.

    Stride 1: "same" (symmetric for odd kernels). Stride > 1: explicit
    symmetric zero padding then "valid", so outputs and pixel alignment equal
    torchvision's (keras "same" would pad more at the end) and weights port.
    Returns a list of layers to apply in order.
    """
    pad = kernel_size // 2
    if strides == 1:
        return [layers.Conv2D(filters, kernel_size, padding="same", use_bias=use_bias,
                              kernel_initializer=CONV_INIT, name=name)]
    return [
        layers.ZeroPadding2D(pad, name=f"{name}_pad"),
        layers.Conv2D(filters, kernel_size, strides=strides, padding="valid", use_bias=use_bias,
                      kernel_initializer=CONV_INIT, name=name),
    ]


@keras.saving.register_keras_serializable(package="zoo")
class BatchNormalization(layers.BatchNormalization):
    """keras BatchNormalization, optionally with one-pass batch statistics.

    `fast_variance=True` computes the variance as E[x^2] - E[x]^2 (in float32,
    as keras does), so that both statistics come from one read of the
    activations (XLA fuses the two sums into one reduction); keras's two-pass
    variance reads them twice. Flax's BatchNorm does the same by default
    (`use_fast_variance=True`). Only how the batch variance is computed
    changes (to float32 rounding); inference uses the moving statistics as before.

    `fused=True` (default): in training, where the backend has a fused batch-norm
    kernel (`zoo.training.fused_batch_norm`: TensorFlow's, oneDNN's on x86), 4-D
    channels-last inputs are normalized by it, with its fused gradient: about five
    times faster than keras's op-by-op path on a bfloat16 conv net
    (docs/benchmarks.md); the same function to float32 rounding. Inference keeps
    keras's path, so predictions (and exported artifacts) are unchanged.
    """

    def __init__(self, fast_variance=False, fused=True, **kwargs):
        super().__init__(**kwargs)
        self.fast_variance = fast_variance
        self.fused = fused

    def _fusable(self, inputs, training, mask):
        return (training and self.trainable and self.fused and fused_batch_norm is not None
                and mask is None
                and not self.renorm and not getattr(self, "synchronized", False)
                and len(inputs.shape) == 4 and self.axis % 4 == 3
                and inputs.dtype in ("float32", "bfloat16", "float16"))

    def _fused_call(self, inputs):
        channels = inputs.shape[-1]
        scale = self.gamma if self.scale else ops.ones((channels,), "float32")
        offset = self.beta if self.center else ops.zeros((channels,), "float32")
        scale, offset = ops.cast(scale, "float32"), ops.cast(offset, "float32")
        outputs, mean, variance = fused_batch_norm(inputs, scale, offset, self.epsilon)
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            moving.assign(ops.cast(moving, "float32") * self.momentum
                          + batch * (1.0 - self.momentum))
        return ops.cast(outputs, self.compute_dtype)

    def call(self, inputs, training=None, mask=None):
        if self._fusable(inputs, training, mask):
            return self._fused_call(inputs)
        fast = training and self.trainable and self.fast_variance
        if not fast or mask is not None or self.renorm:
            return super().call(inputs, training=training, mask=mask)
        # keras's training branch, with the one-pass variance
        dtype = "float64" if inputs.dtype == "float64" else "float32"
        x = ops.cast(inputs, dtype)
        axes = [i for i in range(len(x.shape)) if i != self.axis % len(x.shape)]
        mean = ops.mean(x, axis=axes)
        variance = ops.maximum(ops.mean(ops.square(x), axis=axes) - ops.square(mean), 0.0)
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            moving.assign(ops.cast(moving, dtype) * self.momentum + batch * (1.0 - self.momentum))
        outputs = ops.batch_normalization(
            x,
            mean,
            variance,
            axis=self.axis,
            offset=ops.cast(self.beta, dtype) if self.center else None,
            scale=ops.cast(self.gamma, dtype) if self.scale else None,
            epsilon=self.epsilon,
        )
        return ops.cast(outputs, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "fast_variance": self.fast_variance, "fused": self.fused}


def batch_norm(name, epsilon=1e-5, zero_gamma=False, fast=False):
    """BatchNormalization with torch's defaults (momentum 0.1 there is 0.9 here)."""
    return BatchNormalization(momentum=0.9, epsilon=epsilon, name=name, fast_variance=fast,
                              gamma_initializer="zeros" if zero_gamma else "ones")


def apply(sequence, x, training=False):
    """Applies a list of layers; `training` goes to the layers whose `call` takes it."""
    for layer in sequence:
        if getattr(layer, "_call_has_training_arg", False):
            x = layer(x, training=training)
        else:
            x = layer(x)
    return x


AUGMENTATIONS = (None, "flip", "translate", "flip_translate")


def augmentation_layers(augment, input_shape):
    """Training-only augmentation at the model's input (identity at inference).

    "flip": random horizontal flips; "translate": random shifts of up to 1/8
    of the image side (zero fill, nearest pixel), as the usual pad-4-and-crop
    of 32x32 CIFAR images; "flip_translate": both.
    """
    check_choice("augment", augment, AUGMENTATIONS)
    out = []
    if augment in ("flip", "flip_translate"):
        out.append(layers.RandomFlip("horizontal", name="augment_flip"))
    if augment in ("translate", "flip_translate"):
        out.append(layers.RandomTranslation(0.125, 0.125, fill_mode="constant",
                                            interpolation="nearest", name="augment_translate"))
    return out


class SymbolicBuild:
    """Builds by running `call` on KerasTensors: shape inference only.

    keras would otherwise trace a layer without `build` (and a subclassed
    model's output spec) through a backend graph, which for a 100-layer net
    on TensorFlow costs seconds. Mixed into the blocks and the classifiers.
    """

    def build(self, input_shape):
        self.call(keras.KerasTensor(input_shape))
        self.built = True

    def compute_output_spec(self, inputs, training=False):
        return self.call(inputs, training=training)


class Block(SymbolicBuild, layers.Layer):
    """Base of the families' blocks: built symbolically."""


class VisionClassifier(SymbolicBuild, ZooClassifier):
    """Base of the vision families: common arguments, stages, then a head.

    Subclasses create their layers in `__init__`, append each stage's layers
    through `self._stage_layers`, implement `stage_outputs`, and call
    `self._make_head(...)` then `self.build_now()`.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of output logits.
        include_top: end with the classifier (True) or with the features.
        pooling: with `include_top=False`: None (the last feature map),
            "avg" or "max" (global pooling to a vector).
        filters: per-stage widths (family-specific meaning, see the family).
        width_multiplier: multiplies every width (> 0).
        dropout: dropout rate (family-specific position, see the family).
        features_only: `call` returns the list of every stage's feature map
            (no head; `include_top` and `pooling` are then not used).
        augment: training-only input augmentation: None, "flip", "translate"
            or "flip_translate" (see `augmentation_layers`).
        preprocessing: None, or the arguments of an `ImagePreprocessing`
            layer applied first (images of any size in, crops of `input_shape`
            out): the preprocessing pretrained weights expect.
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).
    """

    def __init__(self, input_shape, num_classes, include_top, pooling, filters, width_multiplier,
                 dropout, features_only, augment=None, *, num_stages=None, preprocessing=None,
                 **kwargs):
        input_shape = check_input_shape(input_shape, 3)
        self.preprocessing = None if preprocessing is None else dict(preprocessing)
        self.preprocess = None
        if preprocessing is not None:
            self.preprocess = ImagePreprocessing(**self.preprocessing, name="preprocessing")
            # canonical form (lists), so the config survives a JSON round trip unchanged
            self.preprocessing = {k: v for k, v in self.preprocess.get_config().items()
                                  if k in self.preprocessing}
            if tuple(self.preprocess.crop) != input_shape[:2]:
                raise ValueError(
                    "`preprocessing` must crop to the model's input size. Received: "
                    f"preprocessing crop={tuple(self.preprocess.crop)}, "
                    f"input_shape={input_shape}")
        self.include_top = check_bool("include_top", include_top)
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        if include_top and pooling is not None and not features_only:
            raise ValueError(
                "`pooling` applies only with `include_top=False` (the classifier has its own "
                f"pooling). Received: pooling={pooling!r} with include_top=True"
            )
        self.filters = check_depths("filters", filters, num_stages)
        self.width_multiplier = check_multiplier(width_multiplier)
        self.dropout = check_rate("dropout", dropout)
        self.features_only = check_bool("features_only", features_only)
        check_choice("augment", augment, AUGMENTATIONS)
        super().__init__(input_shape, num_classes, **kwargs)
        self.augment = augment
        self.augmentation = augmentation_layers(augment, input_shape)

    # ------------------------------------------------------------------ helpers
    def width(self, w):
        return scale(w, self.width_multiplier)

    def _check_stem(self, stem, min_sizes, family):
        """Resolves `stem=None` and raises when the input is below the stem's minimum.

        `min_sizes`: {stem: smallest spatial size it supports}. None picks
        "imagenet" when the input is at least its minimum, else "small".
        """
        check_choice("stem", stem, STEMS)
        size = min(self._zoo_input_shape[:2])
        if stem is None:
            stem = "imagenet" if size >= min_sizes["imagenet"] else "small"
        if size < min_sizes[stem]:
            other = "" if stem == "small" else (
                f" Pass stem='small' (inputs from {min_sizes['small']}x{min_sizes['small']}) "
                "or stem=None to choose by input size."
            )
            raise ValueError(
                f"{family} with stem={stem!r} needs inputs of at least "
                f"{min_sizes[stem]}x{min_sizes[stem]}.{other} "
                f"Received: input_shape={self._zoo_input_shape}"
            )
        return stem

    def _check_min_size(self, minimum, family):
        size = min(self._zoo_input_shape[:2])
        if size < minimum:
            raise ValueError(
                f"{family} needs inputs of at least {minimum}x{minimum}. "
                f"Received: input_shape={self._zoo_input_shape}"
            )

    def _make_head(self, hidden_units=(), flatten=False, dropout_first=False, dropout=None,
                   pool_size=None):
        """The classifier (or feature pooling) after the last stage.

        flatten: Flatten the last map (AlexNet, VGG) instead of global average
            pooling (ResNet, DenseNet, GoogLeNet).
        pool_size: with `flatten`, first average-pool the map adaptively to this
            (height, width), as torchvision's `AdaptiveAvgPool2d` before the
            AlexNet/VGG classifiers: the first Dense layer then has the same
            size (and the same weights fit) at every input size.
        hidden_units: widths of hidden Dense+ReLU layers before the logits.
        dropout_first: Dropout before each hidden Dense (AlexNet) rather than
            after it (VGG); pooled heads put Dropout before the logits.
        """
        rate = self.dropout if dropout is None else dropout
        self.head = []
        if self.features_only:
            return
        if not self.include_top:
            if self.pooling == "avg":
                self.head = [layers.GlobalAveragePooling2D(name="avg_pool")]
            elif self.pooling == "max":
                self.head = [layers.GlobalMaxPooling2D(name="max_pool")]
            return
        head = [layers.Flatten(name="flatten") if flatten else
                layers.GlobalAveragePooling2D(name="avg_pool")]
        if flatten and pool_size is not None:
            head.insert(0, AdaptiveAveragePooling2D(pool_size, name="avg_pool"))
        for i, units in enumerate(hidden_units):
            dense = layers.Dense(units, activation="relu", name=f"fc{i + 1}")
            drop = [layers.Dropout(rate, name=f"fc{i + 1}_dropout")] if rate else []
            head += drop + [dense] if dropout_first else [dense] + drop
        if rate and not hidden_units:
            head.append(layers.Dropout(rate, name="dropout"))
        # float32 logits: softmax cross-entropy stays accurate under mixed precision
        head.append(layers.Dense(self._zoo_num_classes, dtype="float32", name="logits"))
        self.head = head

    # ------------------------------------------------------------------ forward
    def stage_outputs(self, inputs, training=False):
        """The feature map at the end of each stage, shallow to deep (a list).

        By default: `stem_layers` (where the family has them), then each list
        of layers in `stages`; families with another structure override it.
        """
        x = apply(getattr(self, "stem_layers", ()), inputs, training)
        outputs = []
        for stage in self.stages:
            x = apply(stage, x, training)
            outputs.append(x)
        return outputs

    def expected_input_shape(self):
        if self.preprocess is not None:  # any image size: the model resizes and crops
            return (None, None, self._zoo_input_shape[-1])
        return super().expected_input_shape()

    def preprocess_inputs(self, inputs):
        """The inputs after the model's own preprocessing (unchanged without one)."""
        return inputs if self.preprocess is None else self.preprocess(inputs)

    def call(self, inputs, training=False):
        inputs = apply(self.augmentation, self.preprocess_inputs(inputs), training)
        features = self.stage_outputs(inputs, training=training)
        if self.features_only:
            return features
        return apply(self.head, features[-1], training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self._zoo_input_shape,
            "num_classes": self._zoo_num_classes,
            "include_top": self.include_top,
            "pooling": self.pooling,
            "filters": self.filters,
            "width_multiplier": self.width_multiplier,
            "dropout": self.dropout,
            "features_only": self.features_only,
            "augment": self.augment,
            "preprocessing": self.preprocessing,
        }
