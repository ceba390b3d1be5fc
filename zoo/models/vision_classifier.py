"""`VisionClassifier`: the functional base of the vision families (inputs, stages, head).

A vision family is a functional subclass, as KerasHub's `Backbone`: its
constructor builds the graph on a `keras.Input` and hands it to
`keras.Model.__init__(inputs=..., outputs=...)`. The model is built when
created (shape inference only, nothing computed), `summary()` lists every
layer, and each stage's output is a named layer (`stage1` ... `stageN`, made by
`vision_layers.stage_output`): `model.get_layer("stage2").output` is a feature tap.
"""

import re

import keras
from keras import layers

from zoo import compat
from zoo.errors import UserValueError
from zoo.models.pooling import AdaptiveAveragePooling2D
from zoo.models.preprocessing import ImagePreprocessing
from zoo.models.vision_layers import (
    AUGMENTATIONS,
    POOLINGS,
    augmentation_layers,
    check_depths,
    check_multiplier,
    scale,
)
from zoo.models.zoo_classifier import ZooClassifier
from zoo.utils.checks import check_bool, check_choice, check_input_shape, check_rate


class VisionClassifier(ZooClassifier, compat.functional_model_class()):
    """Base of the vision families: common arguments, the family's stages, then a head.

    A family's `__init__` checks its own arguments, stores them, and calls
    `super().__init__(...)` with the common ones by name; the base checks
    those, makes the input (preprocessing and augmentation first), calls the
    family's `build_stages(x)` (the feature map at the end of each stage,
    shallow to deep, each passed through `stage_output(x, i)` where the next
    stage continues from it) and ends with `build_head` (or the stages
    themselves with `features_only`). A family with another head
    (AlexNet's and VGG's Dense layers) overrides `build_head`.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of output logits.
        include_top: end with the classifier (True) or with the features.
        pooling: with `include_top=False`: None (the last feature map),
            "avg" or "max" (global pooling to a vector).
        filters: per-stage widths (family-specific meaning, see the family).
        width_multiplier: multiplies every width (> 0).
        dropout: dropout rate (family-specific position, see the family).
        features_only: the model returns the list of every stage's feature map
            (no head; `include_top` and `pooling` are then not used).
        augment: training-only input augmentation: None, "flip", "translate"
            or "flip_translate" (`zoo.models.vision_layers.augmentation_layers`).
        preprocessing: None, or the arguments of an `ImagePreprocessing`
            layer applied first (images of any size in, crops of `input_shape`
            out): the preprocessing pretrained weights expect.
        num_stages: how many per-stage `filters` the family needs (None: any).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).
    """

    function_preserving_arguments = ZooClassifier.function_preserving_arguments + (
        "augment", "include_top", "pooling", "features_only", "preprocessing")
    head_arguments = ("num_classes", "include_top", "features_only")
    #: the head's layer names (a regex): they differ when the head arguments do
    head_layers = r"logits|fc\d+"
    #: weights files written when the vision families were subclassed models (their layers
    #: nested in blocks) load by layer name (`zoo.compat.adopt_legacy_layout`)
    reads_legacy_layout = True
    #: the `pooling` values the family's head takes with `include_top=False`
    poolings = POOLINGS

    def __init__(self, *, input_shape, num_classes, include_top=True, pooling=None, filters,
                 width_multiplier=1.0, dropout=0.0, features_only=False, augment=None,
                 preprocessing=None, num_stages=None, **kwargs):
        input_shape = check_input_shape(input_shape, 3)
        self.include_top = check_bool("include_top", include_top)
        self.pooling = check_choice("pooling", pooling, self.poolings)
        self.features_only = check_bool("features_only", features_only)
        if include_top and pooling is not None and not features_only:
            raise UserValueError(
                "`pooling` applies only with `include_top=False` (the classifier has its own "
                f"pooling). Received: pooling={pooling!r} with include_top=True"
            )
        self.filters = check_depths("filters", filters, num_stages)
        self.width_multiplier = check_multiplier(width_multiplier)
        self.dropout = check_rate("dropout", dropout)
        self.augment = check_choice("augment", augment, AUGMENTATIONS)
        self.preprocessing = None
        self._zoo_input_shape = input_shape
        self._zoo_num_classes = num_classes
        if preprocessing is None:
            inputs = keras.Input(self.input_layer_shape(input_shape), name="images")
            x = inputs
        else:
            prep = ImagePreprocessing(**dict(preprocessing), name="preprocessing")
            if tuple(prep.crop) != input_shape[:2]:
                raise UserValueError(
                    "`preprocessing` must crop to the model's input size. Received: "
                    f"preprocessing crop={tuple(prep.crop)}, input_shape={input_shape}")
            # canonical form (lists), so the config survives a JSON round trip unchanged
            self.preprocessing = {k: v for k, v in prep.get_config().items()
                                  if k in preprocessing}
            inputs = keras.Input((None, None, input_shape[-1]), name="images")
            x = prep(inputs)
        for layer in augmentation_layers(augment):
            x = layer(x)
        stages = self.build_stages(x)
        outputs = stages if self.features_only else self.build_head(stages[-1])
        super().__init__(inputs=inputs, outputs=outputs, input_shape=input_shape,
                         num_classes=num_classes, **kwargs)

    # ------------------------------------------------------------------ the family's part
    def input_layer_shape(self, input_shape):
        """The shape of the model's `keras.Input` (without preprocessing): `input_shape`, or
        (None, None, channels) for a family that takes any image size."""
        return input_shape

    def build_stages(self, x):  # pragma: no cover - abstract
        """The feature map at the end of each stage, shallow to deep (a list), from `x`;
        each one the output of `vision_layers.stage_output(x, i)`, the next stage's input."""
        raise NotImplementedError

    def build_head(self, x):
        """Global average pooling, Dropout (when `dropout`), float32 logits; or, with
        `include_top=False`, the `pooling` (or `x` itself)."""
        return self.classifier_head(x)

    def width(self, w):
        """`w` scaled by `width_multiplier`."""
        return scale(w, self.width_multiplier)

    def classifier_head(self, x, hidden_units=(), flatten=False, dropout_first=False,
                        pool_size=None, hidden_activation="relu"):
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
        hidden_activation: the hidden Dense layers' activation (MobileNetV3: "hard_silu").
        """
        if not self.include_top:
            if self.pooling == "avg":
                return layers.GlobalAveragePooling2D(name="avg_pool")(x)
            if self.pooling == "max":
                return layers.GlobalMaxPooling2D(name="max_pool")(x)
            return x
        rate = self.dropout
        if flatten:
            if pool_size is not None:
                x = AdaptiveAveragePooling2D(pool_size, name="avg_pool")(x)
            x = layers.Flatten(name="flatten")(x)
        else:
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        for i, units in enumerate(hidden_units):
            drop = layers.Dropout(rate, name=f"fc{i + 1}_dropout") if rate else None
            if drop is not None and dropout_first:
                x = drop(x)
            x = layers.Dense(units, activation=hidden_activation, name=f"fc{i + 1}")(x)
            if drop is not None and not dropout_first:
                x = drop(x)
        if rate and not hidden_units:
            x = layers.Dropout(rate, name="dropout")(x)
        # float32 logits: softmax cross-entropy stays accurate under mixed precision
        return layers.Dense(self._zoo_num_classes, dtype="float32", name="logits")(x)

    def call(self, inputs, training=False, mask=None):
        # `training` defaults to False, as a subclassed model's does: otherwise keras takes
        # the first layer's own default, and the augmentation layers' is True (a call
        # without `training` would flip the images and update the BN statistics)
        return super().call(inputs, training=training, mask=mask)

    # ------------------------------------------------------------------ feature taps
    def feature_layer_names(self):
        """The names of the stage outputs, shallow to deep: `["stage1", ...]`."""
        return [layer.name for layer in self.layers if re.fullmatch(r"stage\d+", layer.name)]

    def stage_outputs(self, inputs, training=False):
        """Every stage's feature map for `inputs` (the model's own inputs: preprocessing
        and augmentation apply first), shallow to deep."""
        taps = [self.get_layer(n).output for n in self.feature_layer_names()]
        return keras.Model(self.input, taps)(inputs, training=training)

    def expected_input_shape(self):
        if self.preprocessing is not None:  # any image size: the model resizes and crops
            return (None, None, self._zoo_input_shape[-1])
        return super().expected_input_shape()

    def build(self, input_shape=None):
        # built when created, as any functional model (ZooClassifier's symbolic build is
        # for the subclassed families)
        self.built = True

    # ------------------------------------------------------------------ saving
    def load_own_variables(self, store):
        # A file written before the vision families were functional (their layers
        # nested in blocks) is read by layer name; see zoo.compat.
        compat.adopt_legacy_layout(self, store)
        super().load_own_variables(store)

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
