"""TensorFlow half of the zoo step: gradients with `tf.GradientTape`."""

import tensorflow as tf

from zoo import compat
from zoo.training.base import BaseZooModel, TracedFloat
from zoo.utils.optimizers import inner_optimizer


class _TFTracedFloat(TracedFloat):
    def __tf_tensor__(self, dtype=None, name=None):
        value = tf.convert_to_tensor(self.tensor)
        return tf.cast(value, dtype) if dtype is not None else value


def _replicas():
    return tf.distribute.get_strategy().num_replicas_in_sync


class _PredictFunctions:
    """keras's traced predict functions, one per image size (a plain object: not tracked)."""

    def __init__(self):
        self.by_size = {}


class ZooTrainer(BaseZooModel):
    def train_step(self, data):
        return self._zoo_train_step(data)

    def predict(self, x, *args, **kwargs):
        # keras traces predict with `reduce_retracing`: a second image size gets a trace
        # whose height and width are None, which a layer that must know them (resizing
        # raw images: `requires_known_image_size`) cannot run. Keep one trace per size.
        size = _image_size(x) if _needs_known_image_size(self) else None
        if size is None:
            return super().predict(x, *args, **kwargs)
        functions = self.__dict__.get("_zoo_predict_functions")
        if functions is None:
            functions = self._zoo_predict_functions = _PredictFunctions()
        self.predict_function = functions.by_size.get(size)
        try:
            return super().predict(x, *args, **kwargs)
        finally:
            functions.by_size[size] = self.predict_function

    def test_step(self, data):
        return self._zoo_test_step(data)

    def _value_and_grad(self, fn, variables, optimizer):
        with tf.GradientTape() as tape:
            loss, aux = fn()
            scaled = optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        return loss, aux, grads

    def _apply_gradients(self, optimizer, grads, variables):
        # keras's global norm squares an IndexedSlices' rows one by one, so a row
        # gathered twice (a token repeated in the batch: embeddings) is
        # under-counted and the clipped step exceeds the clip norm. Sum the
        # duplicates first: the slices stay sparse and the norm is the true one.
        if getattr(inner_optimizer(optimizer), "global_clipnorm", None):
            grads = [_deduplicate(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        optimizer.apply(grads, variables)

    def _traced_float(self, nominal, tensor):
        return _TFTracedFloat(nominal, tensor)

    # Under MirroredStrategy each replica sees 1/n of the global batch and the
    # replicas' gradients are summed: dividing the local mean loss by n gives
    # the gradient of the global-batch mean (what keras losses do already).
    def _scale_for_distribution(self, loss):
        n = _replicas()
        return loss * (1.0 / n) if n > 1 else loss

    def _unscale_for_distribution(self, loss):
        n = _replicas()
        return loss * float(n) if n > 1 else loss


def _needs_known_image_size(model):
    return any(getattr(layer, "requires_known_image_size", False)
               for layer in compat.nested_layers(model))


def _image_size(x):
    """(height, width) of a batch of images (an array or a dataset of known size), else None."""
    if isinstance(x, tf.data.Dataset):
        spec = x.element_spec
        spec = spec[0] if isinstance(spec, tuple) else spec
        shape = getattr(spec, "shape", None)
    else:
        shape = getattr(x, "shape", None)
    if shape is None or len(shape) != 4 or None in tuple(shape[1:3]):
        return None
    return tuple(int(d) for d in shape[1:3])


def _deduplicate(slices):
    indices, positions = tf.unique(slices.indices)
    values = tf.math.unsorted_segment_sum(slices.values, positions, tf.shape(indices)[0])
    return tf.IndexedSlices(values, indices, slices.dense_shape)


def fused_batch_norm(x, scale, offset, epsilon):
    """Training-mode batch normalization of an NHWC `x` in one fused kernel (oneDNN's on x86).

    Returns `(y, batch mean, batch variance)`: `y` in the dtype of `x`, the statistics
    float32, the variance the biased one (divided by n, as keras's moments).
    `scale`/`offset`: float32 per channel. keras's own path computes the statistics,
    normalizes and differentiates op by op in float32; without the fused kernel the
    speedrun's whole training takes 1.25 times the CPU time (docs/benchmarks.md, ablation).
    """
    empty = tf.constant([], tf.float32)
    y, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
        x=x, scale=scale, offset=offset, mean=empty, variance=empty, epsilon=epsilon,
        exponential_avg_factor=1.0, data_format="NHWC", is_training=True)
    # the kernel returns the unbiased variance (n / (n - 1)) for the moving average
    shape = tf.shape(x)
    n = tf.cast(shape[0] * shape[1] * shape[2], tf.float32)
    return y, mean, variance * ((n - 1.0) / tf.maximum(n, 1.0))


def input_gradient(fn, x):
    """d sum(fn(x)) / dx, differentiable again (for gradient penalties)."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x)
