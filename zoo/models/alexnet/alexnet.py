"""`AlexNet` (Krizhevsky et al. 2012), torchvision's single-tower layout."""

from keras import layers

from zoo.models.dense_head import DenseHead
from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import (
    CONV_INIT,
    chain,
    check_stem,
    min_input_size,
    stage_output,
)
from zoo.utils.checks import check_input_shape

# (kernel, stride, total padding) of every spatial op, for the smallest input each stem takes
_BODY = [(5, 1, 4), (3, 2, 0), (3, 1, 2), (3, 1, 2), (3, 1, 2), (3, 2, 0)]
_MIN_SIZE = {
    "imagenet": min_input_size([(11, 4, 4), (3, 2, 0)] + _BODY),  # 63
    "small": min_input_size([(3, 1, 2)] + _BODY),  # 7
}


class AlexNet(DenseHead, VisionClassifier):
    """AlexNet: five convolutions in three pooled stages, then Dense 4096-4096-logits.

    Layout as torchvision's `alexnet` (64-192-384-256-256 filters; Dropout
    before each hidden Dense layer). Trainable parameters at 224x224x3 / 1000
    classes: 61,100,840, equal to torchvision 0.29's.

    Input sizes: the ImageNet stem (11x11/4 convolution, 3x3/2 max-pool) needs
    inputs of at least 63x63. `stem="small"` replaces it by a 3x3/1
    convolution without pooling (inputs from 7x7; 28x28 ends at 6x6 like 224
    does with the ImageNet stem). `stem=None` (default) picks "imagenet" when
    the input is large enough, else "small"; `stem="imagenet"` on a smaller
    input raises a ValueError naming the minimum. As torchvision, the
    classifier average-pools the last map adaptively to 6x6 before flattening
    (`head_pool_size`), so the first Dense layer fits every input size.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with the Dense classifier.
        pooling: with `include_top=False`: None, "avg" or "max".
        filters: widths of the five convolutions.
        width_multiplier: multiplies every width, the Dense layers' included.
        dropout: dropout rate before each hidden Dense layer.
        features_only: the model returns the output of each of the three stages.
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing`
            arguments (a dict): images of any size in, resized, cropped to
            `input_shape` and normalized inside the model (set by
            `zoo.create(..., weights=...)` from the entry).
        stem: None, "imagenet" or "small" (see above).
        head_units: widths of the hidden Dense layers.
        head_pool_size: (height, width) the last map is average-pooled to
            before flattening (torchvision's 6x6), or None (flatten it as it is).
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("alexnet", input_shape=(28, 28, 1), num_classes=10)  # small stem
    ```
    """

    head_dropout_first = True

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        filters=(64, 192, 384, 256, 256),
        width_multiplier=1.0,
        dropout=0.5,
        features_only=False,
        augment=None,
        preprocessing=None,
        stem=None,
        head_units=(4096, 4096),
        head_pool_size=(6, 6),
        **kwargs,
    ):
        self.check_dense_head(head_units, head_pool_size)
        self.stem = check_stem(stem, check_input_shape(input_shape, 3), _MIN_SIZE, "alexnet")
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=5, **kwargs)

    def build_stages(self, x):
        w = [self.width(f) for f in self.filters]

        def conv(i, kernel, strides=1, pad=None):
            # torchvision pads conv1 (11x11/4) by 2, not kernel // 2
            pad = kernel // 2 if pad is None else pad
            padding = [layers.ZeroPadding2D(pad, name=f"conv{i}_pad")] if strides > 1 else []
            return padding + [
                layers.Conv2D(w[i - 1], kernel, strides=strides,
                              padding="valid" if strides > 1 else "same",
                              activation="relu", kernel_initializer=CONV_INIT, name=f"conv{i}")
            ]

        def pool(i):
            return layers.MaxPooling2D(3, strides=2, name=f"pool{i}")

        first = conv(1, 11, 4, pad=2) + [pool(1)] if self.stem == "imagenet" else conv(1, 3)
        stages = []
        for i, stage in enumerate([first, conv(2, 5) + [pool(2)],
                                   conv(3, 3) + conv(4, 3) + conv(5, 3) + [pool(3)]]):
            x = stage_output(chain(stage, x), i + 1)
            stages.append(x)
        return stages

    def get_config(self):
        return {**super().get_config(), "stem": self.stem}
