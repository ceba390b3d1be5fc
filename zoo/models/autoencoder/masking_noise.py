"""`MaskingNoise`: the denoising autoencoder's masking corruption."""

import keras
from keras import layers, ops

from zoo.utils.checks import check_rate, check_seed


@keras.saving.register_keras_serializable(package="zoo")
class MaskingNoise(layers.Layer):
    """Sets a random fraction `rate` of the inputs to zero, in training only.

    Unlike `Dropout` the kept values are not rescaled: the denoising
    autoencoder's masking corruption (Vincent et al., 2008).

    Args:
        rate: fraction of values set to zero, in [0, 1).
        seed: optional int seed.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        # no weights to create: built at once (as keras's Dropout and GaussianNoise
        # are), so a model holding it is not half-built before its first training call
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) >= self.rate
        return inputs * ops.cast(keep, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
