"""`DropPath`: stochastic depth per example (Huang et al. 2016), as timm's `DropPath`."""

import keras
from keras import layers, ops

from zoo.errors import UserValueError


@keras.saving.register_keras_serializable(package="zoo")
class DropPath(layers.Layer):
    """Drops a residual branch for whole examples in training, scaling the kept ones.

    Each example's branch is zeroed with probability `rate` and the others divided by
    `1 - rate` (timm's `drop_path` with `scale_by_keep`); the identity in inference.
    The draws come from a `keras.random.SeedGenerator` (seeded by `seed`, else by
    `keras.utils.set_random_seed`).

    Args:
        rate: the drop probability, in [0, 1).
        seed: the seed generator's seed (None: keras's global seed).
    """

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise UserValueError(f"`rate` must be in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        shape = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        draws = keras.random.uniform(shape, seed=self.seed_generator, dtype=x.dtype)
        return x * ops.floor(keep + draws) / keep

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
