"""`SpeedNet`: stages of conv -> max-pool -> BatchNorm -> activation (airbench's layout).

Keller Jordan's airbench (arXiv 2404.00498) trains CIFAR-10 to 94 % in seconds
with stages of 3x3 convolutions in which each stage pools right after its first
convolution, so the BatchNorm and activation that follow run on a map four times
smaller; BatchNorm learns a shift but no scale; the head is a global max-pool and
one Dense layer without bias. The zoo's CPU speedrun (`scripts/bench.py
speedrun`) trains this family.
"""

from keras import layers

from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import CONV_INIT, check_depths, check_min_size, stage_output
from zoo.models.vision_layers import batch_norm as bn_layer
from zoo.utils.checks import (
    check_bool,
    check_choice,
    check_input_shape,
    check_positive,
    check_widths,
)

ACTIVATIONS = ("relu", "gelu")
HEADS = ("max", "avg", "flatten")


class SpeedNet(VisionClassifier):
    """Stages of [conv 3x3 -> max-pool 2 -> BN -> act] + (depth - 1) x [conv 3x3 -> BN -> act].

    Max-pooling commutes with the (monotonic) activation and with BatchNorm's
    per-channel shift, so pooling right after the convolution computes what
    conv -> act -> pool computes, with the BatchNorm and activation (and their
    gradients) on the pooled map. `speednet` (32-64-128 at 28x28x1, 10 classes)
    has 94,400 parameters (93,952 trainable); the speedrun's record recipe flattens
    the last map into a hidden Dense layer of 256 (`head="flatten", head_units=(256,)`:
    391,360 parameters).

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with the classifier.
        pooling: with `include_top=False`: None, "avg" or "max".
        filters: per-stage widths (one entry per stage; each stage halves the map).
        width_multiplier: multiplies every width, the hidden Dense layers' included.
        dropout: dropout rate before the logits.
        features_only: the model returns every stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing` arguments.
        depth: convolutions per stage (the first one pools): an int for every stage,
            or one int per stage.
        batch_norm: BatchNormalization after each convolution (the convolutions
            then have no bias: BN's shift replaces it).
        bn_scale: BatchNorm learns a scale too (airbench: no, a shift only).
        activation: "relu" or "gelu".
        head: "max" (global max-pool, airbench), "avg" or "flatten" the last map.
        head_units: widths of hidden Dense layers between the pooled features and
            the logits (each Dense -> BN -> activation, as a convolution of a stage).
        pool_last: the last stage pools too; False leaves its map whole to the head.
        pool_first: pool right after a stage's first convolution (True), or after its
            activation as VGG does (False: the same function, BN and activation on the
            full map; for comparisons).
        logit_scale: the logits (a Dense layer without bias) are multiplied by
            this (airbench: 1/9), which sets the softmax temperature at the start.
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("speednet", filters=(32, 64, 128, 256), augment="flip")
    model.compile(optimizer="adam")
    ```
    """

    head_arguments = VisionClassifier.head_arguments + ("head", "head_units", "logit_scale")
    # the same weights compute the same function whichever order (inference)
    function_preserving_arguments = VisionClassifier.function_preserving_arguments + (
        "pool_first",)
    head_layers = r"logits|logit_scale|fc\d+(_bn)?"

    def __init__(
        self,
        *,
        input_shape=(28, 28, 1),
        num_classes=10,
        include_top=True,
        pooling=None,
        filters=(32, 64, 128),
        width_multiplier=1.0,
        dropout=0.0,
        features_only=False,
        augment=None,
        preprocessing=None,
        depth=1,
        batch_norm=True,
        bn_scale=False,
        activation="relu",
        head="max",
        head_units=(),
        pool_last=True,
        pool_first=True,
        logit_scale=1.0,
        **kwargs,
    ):
        filters = check_depths("filters", filters, None)
        self.depth = (check_depths("depth", (depth,), 1)[0] if isinstance(depth, int)
                      else check_depths("depth", depth, len(filters)))
        self.batch_norm = check_bool("batch_norm", batch_norm)
        self.bn_scale = check_bool("bn_scale", bn_scale)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.head_kind = check_choice("head", head, HEADS)
        self.head_units = check_widths("head_units", head_units)
        self.pool_last = check_bool("pool_last", pool_last)
        self.pool_first = check_bool("pool_first", pool_first)
        self.logit_scale = float(check_positive("logit_scale", logit_scale))
        check_min_size(check_input_shape(input_shape, 3), 2 ** len(filters), "speednet")
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, **kwargs)

    def build_stages(self, x):
        depths = ((self.depth,) * len(self.filters) if isinstance(self.depth, int)
                  else self.depth)
        last = len(self.filters) - 1
        stages = []
        for s, (f, depth) in enumerate(zip(self.filters, depths)):
            for c in range(depth):
                name = f"stage{s + 1}_conv{c + 1}"
                x = layers.Conv2D(self.width(f), 3, padding="same", use_bias=not self.batch_norm,
                                  kernel_initializer=CONV_INIT, name=name)(x)
                pool = c == 0 and (s < last or self.pool_last)
                if pool and self.pool_first:
                    x = layers.MaxPooling2D(2, name=f"stage{s + 1}_pool")(x)
                x = self._norm_act(x, f"stage{s + 1}_bn{c + 1}", name)
                if pool and not self.pool_first:
                    x = layers.MaxPooling2D(2, name=f"stage{s + 1}_pool")(x)
            x = stage_output(x, s + 1)
            stages.append(x)
        return stages

    def _norm_act(self, x, bn_name, name):
        if self.batch_norm:
            norm = bn_layer(bn_name)
            norm.scale = self.bn_scale  # set before the layer builds: no gamma variable
            x = norm(x)
        return layers.Activation(self.activation, name=f"{name}_{self.activation}")(x)

    def build_head(self, x):
        if not self.include_top:
            return self.classifier_head(x)  # the shared pooled features ("avg", "max" or x)
        pool = {"max": layers.GlobalMaxPooling2D(name="max_pool"),
                "avg": layers.GlobalAveragePooling2D(name="avg_pool"),
                "flatten": layers.Flatten(name="flatten")}[self.head_kind]
        x = pool(x)
        for i, units in enumerate(self.head_units):
            name = f"fc{i + 1}"
            x = layers.Dense(self.width(units), use_bias=not self.batch_norm, name=name)(x)
            x = self._norm_act(x, f"{name}_bn", name)
        if self.dropout:
            x = layers.Dropout(self.dropout, name="dropout")(x)
        # float32 logits: softmax cross-entropy stays accurate under mixed precision
        x = layers.Dense(self._zoo_num_classes, use_bias=False, dtype="float32",
                         name="logits")(x)
        if self.logit_scale != 1.0:
            x = layers.Rescaling(self.logit_scale, dtype="float32", name="logit_scale")(x)
        return x

    def get_config(self):
        return {**super().get_config(), "depth": self.depth, "batch_norm": self.batch_norm,
                "bn_scale": self.bn_scale, "activation": self.activation,
                "head": self.head_kind, "head_units": self.head_units,
                "pool_last": self.pool_last, "pool_first": self.pool_first,
                "logit_scale": self.logit_scale}
