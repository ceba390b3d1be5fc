"""SpeedNet: stages of conv -> max-pool -> BatchNorm -> activation (airbench's layout).

Keller Jordan's airbench (arXiv 2404.00498) trains CIFAR-10 to 94 % in seconds
with stages of 3x3 convolutions in which each stage pools right after its first
convolution, so the BatchNorm and activation that follow run on a map four times
smaller; BatchNorm learns a shift but no scale; the head is a global max-pool and
one Dense layer whose logits are scaled down. The zoo's CPU speedrun
(`scripts/bench.py speedrun`) trains this family.
"""

from keras import layers

from zoo.models._vision import (
    CONV_INIT,
    VisionClassifier,
    check_depths,
)
from zoo.models._vision import batch_norm as bn_layer
from zoo.registry import register
from zoo.utils.checks import check_bool, check_choice, check_positive, check_widths

ACTIVATIONS = ("relu", "gelu")
HEADS = ("max", "avg", "flatten")


@register("speednet", family="speednet")
class SpeedNet(VisionClassifier):
    """Stages of [conv 3x3 -> max-pool 2 -> BN -> act] + (depth - 1) x [conv 3x3 -> BN -> act].

    Max-pooling commutes with the (monotonic) activation and with BatchNorm's
    per-channel shift, so pooling right after the convolution computes what
    conv -> act -> pool computes, with the BatchNorm and activation (and their
    gradients) on the pooled map.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with the classifier.
        pooling: with `include_top=False`: None, "avg" or "max".
        filters: per-stage widths (one entry per stage; each stage halves the map).
        width_multiplier: multiplies every width.
        dropout: dropout rate before the logits.
        features_only: `call` returns every stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing` arguments.
        depth: convolutions per stage (the first one pools): an int for every stage,
            or one int per stage.
        batch_norm: BatchNormalization after each convolution (the convolutions
            then have no bias: BN's shift replaces it).
        bn_scale: BatchNorm learns a scale too (airbench: no, shift only).
        activation: "relu" or "gelu".
        head: "max" (global max-pool, airbench), "avg" or "flatten" the last map.
        logit_scale: the logits (a Dense layer without bias) are multiplied by
            this (airbench: 1/9), which sets the softmax temperature at the start.
        head_units: widths of hidden Dense layers between the pooled features and
            the logits (each Dense -> BN -> activation, as a stage's convolution).
        pool_last: the last stage pools too; False leaves its map whole to the head
            (a 3x3 map would otherwise pool to its top-left 2x2 window only).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("speednet", input_shape=(28, 28, 1), num_classes=10)
    model.compile(optimizer="adam")
    ```
    """

    def __init__(
        self,
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
        logit_scale=1.0,
        head_units=(),
        pool_last=True,
        **kwargs,
    ):
        self.depth = (check_depths("depth", (depth,), 1)[0] if isinstance(depth, int)
                      else check_depths("depth", depth, None))
        self.batch_norm = check_bool("batch_norm", batch_norm)
        self.bn_scale = check_bool("bn_scale", bn_scale)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.head_kind = check_choice("head", head, HEADS)
        self.logit_scale = float(check_positive("logit_scale", logit_scale))
        self.head_units = check_widths("head_units", head_units)
        self.pool_last = check_bool("pool_last", pool_last)
        super().__init__(input_shape, num_classes, include_top, pooling, filters,
                         width_multiplier, dropout, features_only, augment,
                         preprocessing=preprocessing, num_stages=None, **kwargs)
        self._check_min_size(2 ** len(self.filters), "speednet")
        depths = (self.depth,) * len(self.filters) if isinstance(self.depth, int) else self.depth
        if len(depths) != len(self.filters):
            raise ValueError(f"`depth` must be an int or hold one int per stage ({len(self.filters)}"
                             f"). Received: depth={depth!r}")
        last = len(self.filters) - 1
        self.stages = [self._stage(s, self.width(f), d, pool=s < last or self.pool_last)
                       for s, (f, d) in enumerate(zip(self.filters, depths))]
        self._make_speed_head()
        self.build_now()

    def _stage(self, s, width, depth, pool=True):
        out = []
        for c in range(depth):
            name = f"stage{s + 1}_conv{c + 1}"
            out.append(layers.Conv2D(width, 3, padding="same", use_bias=not self.batch_norm,
                                     kernel_initializer=CONV_INIT, name=name))
            if c == 0 and pool:
                out.append(layers.MaxPooling2D(2, name=f"stage{s + 1}_pool"))
            out += self._norm_act(f"stage{s + 1}_bn{c + 1}", name)
        return out

    def _norm_act(self, bn_name, name):
        out = []
        if self.batch_norm:
            norm = bn_layer(bn_name)
            norm.scale = self.bn_scale
            out.append(norm)
        out.append(layers.Activation(self.activation, name=f"{name}_{self.activation}"))
        return out

    def _make_speed_head(self):
        self.head = []
        if self.features_only:
            return
        if not self.include_top:
            self._make_head()  # the shared pooled features ("avg", "max" or the map)
            return
        pool = {"max": layers.GlobalMaxPooling2D(name="max_pool"),
                "avg": layers.GlobalAveragePooling2D(name="avg_pool"),
                "flatten": layers.Flatten(name="flatten")}[self.head_kind]
        self.head = [pool]
        for i, units in enumerate(self.head_units):
            name = f"fc{i + 1}"
            self.head.append(layers.Dense(self.width(units), use_bias=not self.batch_norm,
                                          name=name))
            self.head += self._norm_act(f"{name}_bn", name)
        if self.dropout:
            self.head.append(layers.Dropout(self.dropout, name="dropout"))
        # float32 logits: softmax cross-entropy stays accurate under mixed precision
        self.head.append(layers.Dense(self._zoo_num_classes, use_bias=False, dtype="float32",
                                      name="logits"))
        if self.logit_scale != 1.0:
            self.head.append(layers.Rescaling(self.logit_scale, dtype="float32",
                                              name="logit_scale"))

    def get_config(self):
        return {**super().get_config(), "depth": self.depth, "batch_norm": self.batch_norm,
                "bn_scale": self.bn_scale, "activation": self.activation,
                "head": self.head_kind, "logit_scale": self.logit_scale,
                "head_units": self.head_units, "pool_last": self.pool_last}

