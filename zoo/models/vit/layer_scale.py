"""`LayerScale`: a learned per-channel scale of a residual branch (Touvron et al. 2021)."""

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="zoo")
class LayerScale(layers.Layer):
    """Multiplies the last axis by a learned vector `gamma`, started at `init_value`
    (CaiT's layer scale; timm's `LayerScale`, DINOv2's `ls1`/`ls2`).

    Args:
        init_value: the starting value of every entry of `gamma`.
    """

    def __init__(self, init_value=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.init_value = float(init_value)

    def build(self, input_shape):
        self.gamma = self.add_weight(
            name="gamma", shape=(input_shape[-1],),
            initializer=keras.initializers.Constant(self.init_value))

    def call(self, x):
        return x * keras.ops.cast(self.gamma, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_value": self.init_value}
