"""`BatchNormalization`: keras's, with torch's defaults and optional one-pass batch statistics."""

import keras
from keras import layers, ops

from zoo.training import fused_batch_norm


@keras.saving.register_keras_serializable(package="zoo")
class BatchNormalization(layers.BatchNormalization):
    """keras BatchNormalization, optionally with one-pass batch statistics.

    `fast_variance=True` computes the variance as E[x^2] - E[x]^2 (in float32,
    as keras does), so that both statistics come from one read of the
    activations (XLA fuses the two sums into one reduction); keras's two-pass
    variance reads them twice. Flax's BatchNorm does the same by default
    (`use_fast_variance=True`). Only how the batch variance is computed
    changes (to float32 rounding); inference uses the moving statistics as before.

    `fused=True` (default): in training, where the backend has a fused batch-norm
    kernel (`zoo.training.fused_batch_norm`: TensorFlow's, oneDNN's on x86), 4-D
    channels-last inputs are normalized by it, with its fused gradient, in place
    of keras's op-by-op path (the speedrun's training: 1.25 times the CPU time
    without it, docs/benchmarks.md); the same function to float32 rounding. Inference keeps
    keras's path, so predictions (and exported artifacts) are unchanged.

    Args:
        fast_variance: one-pass batch variance in training (where not fused).
        fused: the backend's fused kernel in training, where it has one.
        **kwargs: `keras.layers.BatchNormalization` arguments.

    Example:

    ```python
    bn = BatchNormalization(momentum=0.9, epsilon=1e-5, fast_variance=True, name="stem_bn")
    ```
    """

    def __init__(self, fast_variance=False, fused=True, **kwargs):
        super().__init__(**kwargs)
        self.fast_variance = fast_variance
        self.fused = fused

    def _fusable(self, inputs, training, mask):
        return (training and self.trainable and self.fused and fused_batch_norm is not None
                and mask is None and not self.renorm and not getattr(self, "synchronized", False)
                and len(inputs.shape) == 4 and self.axis % 4 == 3
                and inputs.dtype in ("float32", "bfloat16", "float16"))

    def _fused_call(self, inputs):
        channels = inputs.shape[-1]
        scale = self.gamma if self.scale else ops.ones((channels,), "float32")
        offset = self.beta if self.center else ops.zeros((channels,), "float32")
        scale, offset = ops.cast(scale, "float32"), ops.cast(offset, "float32")
        outputs, mean, variance = fused_batch_norm(inputs, scale, offset, self.epsilon)
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            moving.assign(ops.cast(moving, "float32") * self.momentum
                          + batch * (1.0 - self.momentum))
        return ops.cast(outputs, self.compute_dtype)

    def call(self, inputs, training=None, mask=None):
        if self._fusable(inputs, training, mask):
            return self._fused_call(inputs)
        fast = training and self.trainable and self.fast_variance
        if not fast or mask is not None or self.renorm:
            return super().call(inputs, training=training, mask=mask)
        # keras's training branch, with the one-pass variance
        dtype = "float64" if inputs.dtype == "float64" else "float32"
        x = ops.cast(inputs, dtype)
        axes = [i for i in range(len(x.shape)) if i != self.axis % len(x.shape)]
        mean = ops.mean(x, axis=axes)
        variance = ops.maximum(ops.mean(ops.square(x), axis=axes) - ops.square(mean), 0.0)
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            moving.assign(ops.cast(moving, dtype) * self.momentum + batch * (1.0 - self.momentum))
        outputs = ops.batch_normalization(
            x,
            mean,
            variance,
            axis=self.axis,
            offset=ops.cast(self.beta, dtype) if self.center else None,
            scale=ops.cast(self.gamma, dtype) if self.scale else None,
            epsilon=self.epsilon,
        )
        return ops.cast(outputs, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "fast_variance": self.fast_variance, "fused": self.fused}
