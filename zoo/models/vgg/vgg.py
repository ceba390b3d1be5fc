"""`VGG` (Simonyan & Zisserman 2014), torchvision's layout, and a CIFAR VGG."""

from keras import layers

from zoo.models.dense_head import DenseHead
from zoo.models.pooling import TorchMaxPooling2D
from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import (
    CONV_INIT,
    check_depths,
    stage_output,
)
from zoo.models.vision_layers import batch_norm as bn_layer
from zoo.utils.checks import check_bool


class VGG(DenseHead, VisionClassifier):
    """VGG: stages of 3x3 convolutions (+BN) each ending in 2x2 max-pooling, then Dense layers.

    Layout as torchvision's `vgg11` ... `vgg19_bn` (convolutions keep their
    bias, also before BN; classifier Dense-ReLU-Dropout twice, then the logits).
    Trainable parameters at 224x224x3 / 1000 classes equal torchvision 0.29's:
    vgg11 132,863,336; vgg11_bn 132,868,840; vgg13 133,047,848; vgg13_bn
    133,053,736; vgg16 138,357,544; vgg16_bn 138,365,992; vgg19 143,667,240;
    vgg19_bn 143,678,248.

    `vgg13_cifar` is a CIFAR-100 network: five units of two 3x3
    convolutions (64, 128, 256, 512, 512) each followed by 2x2 max-pooling,
    then Dense 256-128-num_classes: 9,582,116 parameters at 32x32x3 / 100
    classes (counted here).

    As torchvision, the classifier average-pools the last map adaptively to
    7x7 before flattening (`head_pool_size`; None flattens the map as it is,
    as `vgg13_cifar` does), so the first Dense layer and its weights are the
    same at every input size; max-pooling floors odd sizes as torchvision's
    does. A 1x1 map still pools to 1x1 (torchvision raises there), so every
    input size works (28x28 ends at 1x1).

    Args:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        include_top: end with the Dense classifier.
        pooling: with `include_top=False`: None, "avg" or "max".
        depths: convolutions per stage (five stages).
        filters: per-stage widths.
        width_multiplier: multiplies every width, the Dense layers' included.
        dropout: dropout rate after each hidden Dense layer.
        features_only: the model returns every stage's output (after its pool).
        augment: training-only augmentation: None, "flip", "translate", "flip_translate".
        preprocessing: None, or `zoo.models.preprocessing.ImagePreprocessing`
            arguments (a dict): images of any size in, resized, cropped to
            `input_shape` and normalized inside the model (set by
            `zoo.create(..., weights=...)` from the entry).
        batch_norm: BatchNormalization after each convolution (`*_bn`).
        head_units: widths of the hidden Dense layers.
        head_pool_size: (height, width) the last map is average-pooled to
            before flattening (torchvision's 7x7), or None.
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("vgg13_cifar", input_shape=(32, 32, 3), num_classes=100)
    model.compile(optimizer="adam")
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(224, 224, 3),
        num_classes=1000,
        include_top=True,
        pooling=None,
        depths=(1, 1, 2, 2, 2),
        filters=(64, 128, 256, 512, 512),
        width_multiplier=1.0,
        dropout=0.5,
        features_only=False,
        augment=None,
        preprocessing=None,
        batch_norm=False,
        head_units=(4096, 4096),
        head_pool_size=(7, 7),
        **kwargs,
    ):
        self.depths = check_depths("depths", depths, None)
        self.batch_norm = check_bool("batch_norm", batch_norm)
        self.check_dense_head(head_units, head_pool_size)
        super().__init__(input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, filters=filters,
                         width_multiplier=width_multiplier, dropout=dropout,
                         features_only=features_only, augment=augment,
                         preprocessing=preprocessing, num_stages=len(self.depths), **kwargs)

    def build_stages(self, x):
        stages = []
        for s, (depth, f) in enumerate(zip(self.depths, self.filters)):
            for c in range(depth):
                name = f"stage{s + 1}_conv{c + 1}"
                x = layers.Conv2D(self.width(f), 3, padding="same", kernel_initializer=CONV_INIT,
                                  name=name)(x)
                if self.batch_norm:
                    x = bn_layer(f"stage{s + 1}_bn{c + 1}")(x)
                x = layers.ReLU(name=f"{name}_relu")(x)
            x = TorchMaxPooling2D(2, 2, name=f"stage{s + 1}_pool")(x)
            x = stage_output(x, s + 1)
            stages.append(x)
        return stages

    def get_config(self):
        return {**super().get_config(), "depths": self.depths, "batch_norm": self.batch_norm}
