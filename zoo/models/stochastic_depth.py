"""`StochasticDepth`: drops a residual branch per example in training (drop path)."""

import keras
from keras import layers, ops

from zoo.utils.checks import check_rate, check_seed


@keras.saving.register_keras_serializable(package="zoo")
class StochasticDepth(layers.Layer):
    """Stochastic depth (Huang et al. 2016, "Deep Networks with Stochastic Depth"), per example.

    Put on a residual branch, before the addition: in training, each example's
    branch is kept with probability `1 - rate` and then divided by `1 - rate`
    (so its expected value is unchanged), or zeroed; in inference (and with
    `rate=0`) the layer is the identity. torchvision's
    `StochasticDepth(p, mode="row")` and timm's `DropPath`.

    The draws come from a `keras.random.SeedGenerator`: with `seed` (or after
    `keras.utils.set_random_seed`) a training run draws the same masks again.

    Args:
        rate: probability of dropping the branch, in [0, 1).
        seed: None or an int.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:

    ```python
    branch = StochasticDepth(0.1, name="stage1_block0_drop_path")(branch)
    x = keras.layers.Add()([x, branch])
    ```
    """

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed) if self.rate else None
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or not self.rate:
            return inputs
        keep = 1.0 - self.rate
        shape = (ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)
        # floor(keep + u) is 1 with probability `keep`, else 0
        mask = ops.floor(keep + keras.random.uniform(shape, seed=self.seed_generator,
                                                     dtype=inputs.dtype))
        return inputs * (mask / keep)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


# ViT's blocks used a `DropPath` layer of their own, the same computation with the same
# seed-generator variable; `.keras` files saved with it name `zoo>DropPath`.
keras.saving.get_custom_objects()["zoo>DropPath"] = StochasticDepth
