"""The subclassed vision base, until every vision family is functional (`vision_classifier`).

The vision families not yet rewritten as functional subclasses subclass
`VisionClassifier` here, which owns the arguments they have in common and the
forward pass around the family's stages: `call` = `stage_outputs` then the head.
"""

import keras
from keras import layers

from zoo.models.pooling import AdaptiveAveragePooling2D
from zoo.models.preprocessing import ImagePreprocessing
from zoo.models.vision_layers import (  # noqa: F401  (the families import them from here)
    AUGMENTATIONS,
    CONV_INIT,
    POOLINGS,
    STEMS,
    batch_norm,
    check_depths,
    check_multiplier,
    check_pool_size,
    conv,
    min_input_size,
    scale,
    spatial_size,
)
from zoo.models.vision_layers import augmentation_layers as _augmentation_layers
from zoo.models.zoo_classifier import ZooClassifier
from zoo.utils.checks import check_bool, check_choice, check_input_shape, check_rate


def apply(sequence, x, training=False):
    """Applies a list of layers; `training` goes to the layers whose `call` takes it."""
    for layer in sequence:
        if getattr(layer, "_call_has_training_arg", False):
            x = layer(x, training=training)
        else:
            x = layer(x)
    return x


def augmentation_layers(augment, input_shape):
    return _augmentation_layers(augment)


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
        super().__init__(input_shape=input_shape, num_classes=num_classes, **kwargs)
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
