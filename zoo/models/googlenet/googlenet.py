"""`GoogLeNet` / Inception v1 (Szegedy et al. 2014), torchvision's layout."""

from keras import layers

from zoo.models.auxiliary_heads import AuxiliaryHeads
from zoo.models.pooling import AdaptiveAveragePooling2D, TorchMaxPooling2D
from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import batch_norm, chain, check_stem, conv, scale, stage_output
from zoo.utils.checks import check_bool, check_choice, check_input_shape, check_non_negative

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


def conv_bn(x, filters, kernel_size, strides=1, *, name):
    """torchvision's BasicConv2d: convolution without bias, BN (eps 1e-3), ReLU."""
    return chain([*conv(filters, kernel_size, strides, name=f"{name}_conv"),
                  batch_norm(f"{name}_bn", epsilon=1e-3), layers.ReLU(name=f"{name}_relu")], x)


def inception(x, widths, *, branch3_kernel_size=3, name):
    """Four parallel branches (1x1; 1x1-3x3; 1x1-kxk; 3x3 max-pool-1x1), concatenated."""
    c1, c3r, c3, c5r, c5, cp = widths
    branches = [
        conv_bn(x, c1, 1, name=f"{name}_branch1"),
        conv_bn(conv_bn(x, c3r, 1, name=f"{name}_branch2a"), c3, 3, name=f"{name}_branch2b"),
        conv_bn(conv_bn(x, c5r, 1, name=f"{name}_branch3a"), c5, branch3_kernel_size,
                name=f"{name}_branch3b"),
        conv_bn(layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_branch4_pool")(x),
                cp, 1, name=f"{name}_branch4b"),
    ]
    return layers.Concatenate(name=f"{name}_out")(branches)


def auxiliary_head(x, num_classes, *, width_multiplier=1.0, name):
    """Auxiliary classifier: 4x4 adaptive average pool, 1x1 conv 128, Dense 1024, logits."""
    x = AdaptiveAveragePooling2D((4, 4), name=f"{name}_pool")(x)
    x = conv_bn(x, scale(128, width_multiplier), 1, name=f"{name}_conv")
    return chain([layers.Flatten(name=f"{name}_flatten"),
                  layers.Dense(scale(1024, width_multiplier), activation="relu",
                               name=f"{name}_fc1"),
                  layers.Dropout(0.7, name=f"{name}_dropout"),
                  layers.Dense(num_classes, dtype="float32", name=f"{name}_fc2")], x)


class GoogLeNet(AuxiliaryHeads, VisionClassifier):
    """GoogLeNet (Inception v1): a convolutional stem, nine inception modules, pooled logits.

    Layout as torchvision's `googlenet` (BN after every convolution, no
    convolution bias; like torchvision, the "5x5" branch uses a 3x3 kernel,
    `branch3_kernel_size=5` gives the paper's). Trainable parameters at
    224x224x3 / 1000 classes without the auxiliary heads: 6,624,904, equal to
    torchvision 0.29's `googlenet(aux_logits=False)`; with them (`aux_logits=True`)
    13,004,888 as torchvision's default.

    Auxiliary classifiers (after 4a and 4d) count only in training: `call(x,
    training=True)` then returns `(logits, aux1, aux2)` and the training loss
    adds `aux_weight` (0.3, as in the paper) times each auxiliary loss; at
    inference the model returns the logits alone.

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
        features_only: the model returns the stem's and each stage's output.
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

    head_arguments = VisionClassifier.head_arguments + ("aux_logits",)
    function_preserving_arguments = VisionClassifier.function_preserving_arguments + (
        "aux_logits",)
    head_layers = r"logits|aux\d+(_\w+)?"

    def __init__(
        self,
        *,
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
        self.stem = check_stem(stem, check_input_shape(input_shape, 3),
                               {"imagenet": 1, "small": 1}, "googlenet")
        # the auxiliary heads exist only with the classifier
        self.uses_aux = self.aux_logits and include_top and not features_only
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=4, **kwargs)

    def build_stages(self, x):
        ratios = [self.width_multiplier * f / d for f, d in zip(self.filters, _DEFAULT_FILTERS)]
        s0 = [scale(w, ratios[0]) for w in _STEM]
        if self.stem == "imagenet":
            x = conv_bn(x, s0[0], 7, 2, name="conv1")
            x = TorchMaxPooling2D(3, 2, ceil_mode=True, name="maxpool1")(x)
            x = conv_bn(conv_bn(x, s0[1], 1, name="conv2"), s0[2], 3, name="conv3")
        else:
            x = conv_bn(x, s0[0], 3, name="conv1")
            x = conv_bn(conv_bn(x, s0[1], 1, name="conv2"), s0[2], 3, name="conv3")
        x = stage_output(x, 1)
        stages, aux_inputs = [x], []
        pools = {3: (3, "maxpool2"), 4: (3, "maxpool3"), 5: (2, "maxpool4")}
        for i, stage in enumerate((3, 4, 5)):
            if not (stage == 3 and self.stem == "small"):
                size, name = pools[stage]
                x = TorchMaxPooling2D(size, 2, ceil_mode=True, name=name)(x)
            for name, widths in _MODULES[stage]:
                widths = [scale(w, ratios[i + 1]) for w in widths]
                x = inception(x, widths, branch3_kernel_size=self.branch3_kernel_size,
                              name=f"inception{name}")
                if self.uses_aux and name in ("4a", "4d"):
                    aux_inputs.append(x)
            x = stage_output(x, i + 2)
            stages.append(x)
        # for build_head, outside keras's attribute tracking: on torch a Module's
        # __delattr__ needs Module.__init__, which runs after the graph is built
        if self.uses_aux:
            self.__dict__["_aux_inputs"] = aux_inputs
        return stages

    def build_head(self, x):
        logits = self.classifier_head(x)
        aux_inputs = self.__dict__.pop("_aux_inputs", [])
        if not self.uses_aux:
            return logits
        aux = [auxiliary_head(t, self._zoo_num_classes, width_multiplier=self.width_multiplier,
                              name=f"aux{i + 1}") for i, t in enumerate(aux_inputs)]
        return [logits, *aux]

    def get_config(self):
        return {**super().get_config(), "stem": self.stem, "aux_logits": self.aux_logits,
                "aux_weight": self.aux_weight, "branch3_kernel_size": self.branch3_kernel_size}
