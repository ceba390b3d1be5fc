"""`LayerScale`: a learned per-channel scale on a residual branch."""

import keras
from keras import layers, ops

from zoo.utils.checks import check_positive


@keras.saving.register_keras_serializable(package="zoo")
class LayerScale(layers.Layer):
    """Multiplies the last axis (channels) by a learned vector `gamma`, initialised small.

    Layer scale (Touvron et al. 2021, "Going deeper with Image Transformers"):
    a residual branch starts close to zero, so a deep network starts close to
    the identity. ConvNeXt's (torchvision's `layer_scale`, timm's `gamma`) and
    the transformers' (timm's `ls1.gamma`). The variable is `gamma`, shape
    `(channels,)`, float32 (cast to the compute dtype under mixed precision).

    Args:
        init_value: the initial value of every channel's scale (> 0;
            ConvNeXt's 1e-6).
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:

    ```python
    branch = LayerScale(1e-6, name="stage1_block0_layer_scale")(branch)
    ```
    """

    def __init__(self, init_value=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.init_value = check_positive("init_value", init_value)

    def build(self, input_shape):
        self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],),
                                     initializer=keras.initializers.Constant(self.init_value))
        self.built = True

    def call(self, inputs):
        return inputs * ops.cast(self.gamma, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_value": self.init_value}
