"""GoogLeNet / Inception v1 (Szegedy et al. 2014), torchvision's layout."""

import keras
from keras import layers, ops

from zoo.models._vision import Block, VisionClassifier, apply, batch_norm, conv, scale
from zoo.models.pooling import AdaptiveAveragePooling2D, TorchMaxPooling2D
from zoo.utils.checks import check_bool, check_choice, check_non_negative

# torchvision's inception modules: (1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool proj)
_MODULES = {
    3: [("3a", (64, 96, 128, 16, 32, 32)), ("3b", (128, 128, 192, 32, 96, 64))],
    4: [("4a", (192, 96, 208, 16, 48, 64)), ("4b", (160, 112, 224, 24, 64, 64)),
        ("4c", (128, 128, 256, 24, 64, 64)), ("4d", (112, 144, 288, 32, 64, 64)),
        ("4e", (256, 160, 320, 32, 128, 128))],
    5: [("5a", (256, 160, 320, 32, 128, 128)), ("5b", (384, 192, 384, 48, 128, 128))],
}
_STEM = (64, 64, 192)
_DEFAULT_FILTERS = (192, 480, 832, 1024)


class ConvBN(Block):
    """torchvision's BasicConv2d: convolution without bias, BN (eps 1e-3), ReLU."""

    def __init__(self, filters, kernel_size, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = filters, kernel_size, strides
        self.conv = conv(filters, kernel_size, strides, name=f"{self.name}_conv")
        self.bn = batch_norm(f"{self.name}_bn", epsilon=1e-3)

    def call(self, x, training=False):
        return ops.relu(self.bn(apply(self.conv, x), training=training))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides}


class Inception(Block):
    """Four parallel branches (1x1; 1x1-3x3; 1x1-kxk; 3x3 max-pool-1x1), concatenated."""

    def __init__(self, widths, branch3_kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.widths, self.branch3_kernel_size = tuple(widths), branch3_kernel_size
        c1, c3r, c3, c5r, c5, cp = widths
        n = self.name
        self.branches = [
            [ConvBN(c1, 1, name=f"{n}_branch1")],
            [ConvBN(c3r, 1, name=f"{n}_branch2a"), ConvBN(c3, 3, name=f"{n}_branch2b")],
            [ConvBN(c5r, 1, name=f"{n}_branch3a"),
             ConvBN(c5, branch3_kernel_size, name=f"{n}_branch3b")],
            [layers.MaxPooling2D(3, strides=1, padding="same", name=f"{n}_branch4_pool"),
             ConvBN(cp, 1, name=f"{n}_branch4b")],
        ]

    def call(self, x, training=False):
        return ops.concatenate([apply(b, x, training) for b in self.branches], axis=-1)

    def get_config(self):
        return {**super().get_config(), "widths": self.widths,
                "branch3_kernel_size": self.branch3_kernel_size}


class InceptionAux(Block):
    """Auxiliary classifier: 4x4 adaptive average pool, 1x1 conv 128, Dense 1024, logits."""

    def __init__(self, num_classes, width_multiplier=1.0, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.width_multiplier = num_classes, width_multiplier
        n = self.name
        self.layers_ = [
            AdaptiveAveragePooling2D((4, 4), name=f"{n}_pool"),
            ConvBN(scale(128, width_multiplier), 1, name=f"{n}_conv"),
            layers.Flatten(name=f"{n}_flatten"),
            layers.Dense(scale(1024, width_multiplier), activation="relu", name=f"{n}_fc1"),
            layers.Dropout(0.7, name=f"{n}_dropout"),
            layers.Dense(num_classes, dtype="float32", name=f"{n}_fc2"),
        ]

    def call(self, x, training=False):
        return apply(self.layers_, x, training)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "width_multiplier": self.width_multiplier}


class GoogLeNet(VisionClassifier):
    """GoogLeNet (Inception v1): a convolutional stem, nine inception modules, pooled logits.

    Layout as torchvision's `googlenet` (BN after every convolution, no
    convolution bias; like torchvision, the "5x5" branch uses a 3x3 kernel,
    `branch3_kernel_size=5` gives the paper's). Trainable parameters at
    224x224x3 / 1000 classes without the auxiliary heads: 6,624,904, equal to
    torchvision 0.29's `googlenet(aux_logits=False)`; with them (`aux_logits=True`)
    13,004,888 as torchvision's default.

    Auxiliary classifiers (after 4a and 4d) run only in training: `call(x,
    training=True)` then returns `(logits, aux1, aux2)` and the training loss
    adds `aux_weight` (0.3, as in the paper) times each auxiliary loss; at
    inference `call` returns the logits alone.

    Input sizes: max-pooling is torchvision's (`ceil_mode=True`, see
    `zoo.models.pooling.TorchMaxPooling2D`: the same windows at every size),
    and a map smaller than a window still gives one output, so every input
    size works; with the ImageNet stem a 28x28 input ends at 1x1.
    `stem="small"` (3x3/1 convolution, no stem pooling, for 28x28 and 32x32
    images) keeps 8x8 at 32x32 input.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with global average pooling, Dropout, Dense logits.
        pooling: with `include_top=False`: None, "avg" or "max".
        filters: nominal output widths of the stem and of stages 3, 4, 5
            (192, 480, 832, 1024); every branch of a stage scales with it.
        width_multiplier: multiplies every width.
        dropout: dropout rate before the logits (0.2 as torchvision).
        features_only: `call` returns the stem's and each stage's output.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing`
            arguments (a dict): images of any size in, resized, cropped to
            `input_shape` and normalized inside the model (set by
            `zoo.create(..., weights=...)` from the entry).
        stem: "imagenet" (7x7/2 conv, 3x3/2 pools), "small" or None ("imagenet").
        aux_logits: add the two auxiliary classifiers (training only).
        aux_weight: weight of each auxiliary loss.
        branch3_kernel_size: kernel of the third branch (3: torchvision, 5: paper).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("googlenet", input_shape=(32, 32, 3), num_classes=10, stem="small",
                       aux_logits=True)
    model.compile(optimizer="adam")  # loss = CE + 0.3 * (CE aux1 + CE aux2)
    ```
    """

    def __init__(
        self,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        filters=_DEFAULT_FILTERS,
        width_multiplier=1.0,
        dropout=0.2,
        features_only=False,
        augment=None,
        preprocessing=None,
        stem=None,
        aux_logits=False,
        aux_weight=0.3,
        branch3_kernel_size=3,
        **kwargs,
    ):
        self.aux_logits = check_bool("aux_logits", aux_logits)
        self.aux_weight = check_non_negative("aux_weight", aux_weight)
        self.branch3_kernel_size = check_choice("branch3_kernel_size", branch3_kernel_size, (3, 5))
        super().__init__(input_shape, num_classes, include_top, pooling, filters,
                         width_multiplier, dropout, features_only, augment,
                         preprocessing=preprocessing, num_stages=4, **kwargs)
        self.stem = self._check_stem(stem, {"imagenet": 1, "small": 1}, "googlenet")
        ratios = [self.width_multiplier * f / d for f, d in zip(self.filters, _DEFAULT_FILTERS)]
        s0 = [scale(w, ratios[0]) for w in _STEM]
        if self.stem == "imagenet":
            self.stem_layers = [
                ConvBN(s0[0], 7, 2, name="conv1"),
                TorchMaxPooling2D(3, 2, ceil_mode=True, name="maxpool1"),
                ConvBN(s0[1], 1, name="conv2"), ConvBN(s0[2], 3, name="conv3"),
            ]
        else:
            self.stem_layers = [ConvBN(s0[0], 3, name="conv1"), ConvBN(s0[1], 1, name="conv2"),
                                ConvBN(s0[2], 3, name="conv3")]
        pools = {3: (3, "maxpool2"), 4: (3, "maxpool3"), 5: (2, "maxpool4")}
        self.stages = []
        self.aux = {}
        use_aux = self.aux_logits and self.include_top and not self.features_only
        for i, stage in enumerate((3, 4, 5)):
            blocks = []
            if not (stage == 3 and self.stem == "small"):
                size, name = pools[stage]
                blocks.append(TorchMaxPooling2D(size, 2, ceil_mode=True, name=name))
            for name, widths in _MODULES[stage]:
                widths = [scale(w, ratios[i + 1]) for w in widths]
                blocks.append(Inception(widths, self.branch3_kernel_size, name=f"inception{name}"))
                if use_aux and name in ("4a", "4d"):
                    aux_name = "aux1" if name == "4a" else "aux2"
                    self.aux[len(blocks) - 1] = len(self.aux)
                    setattr(self, aux_name, InceptionAux(num_classes, self.width_multiplier,
                                                         name=aux_name))
            self.stages.append(blocks)
        self._make_head()
        self.build_now()

    def _aux_heads(self):
        return [self.aux1, self.aux2] if self.aux else []

    def _forward(self, inputs, training):
        x = apply(self.stem_layers, inputs, training)
        outputs, aux = [x], []
        for s, blocks in enumerate(self.stages):
            for b, block in enumerate(blocks):
                x = apply([block], x, training)
                if s == 1 and b in self.aux and training:
                    aux.append(self._aux_heads()[self.aux[b]](x, training=training))
            outputs.append(x)
        return outputs, aux

    def stage_outputs(self, inputs, training=False):
        return self._forward(inputs, training)[0]

    def call(self, inputs, training=False):
        inputs = apply(self.augmentation, self.preprocess_inputs(inputs), training)
        features, aux = self._forward(inputs, training)
        if self.features_only:
            return features
        logits = apply(self.head, features[-1], training=training)
        return (logits, *aux) if aux else logits

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, (tuple, list)):
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        logits, *aux = y_pred
        loss = super().compute_loss(x, y, logits, sample_weight, training=training)
        aux_loss_fn = self.default_loss()  # the auxiliary heads' loss, as in the paper
        for aux_logits in aux:
            aux_loss = aux_loss_fn(y, aux_logits, sample_weight=sample_weight)
            loss = loss + ops.cast(aux_loss, loss.dtype) * self.aux_weight
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, (tuple, list)):
            y_pred = y_pred[0]
        return super().compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def build(self, input_shape):
        # the auxiliary heads only run in training: build them too
        self.call(keras.KerasTensor(input_shape), training=True)
        self.built = True

    def get_config(self):
        return {**super().get_config(), "stem": self.stem, "aux_logits": self.aux_logits,
                "aux_weight": self.aux_weight, "branch3_kernel_size": self.branch3_kernel_size}
