"""Max pooling that computes what torch's `MaxPool2d` computes: output size and alignment."""

import keras
from keras import layers, ops

from zoo.errors import UserValueError


def torch_pool_padding(size, pool_size, strides, padding=0, ceil_mode=False):
    """(pad before, pad after) of one spatial dimension for torch's `MaxPool2d` output.

    torch's output size is `floor` (or `ceil` with `ceil_mode`) of
    `(size + 2 * padding - pool_size) / strides` plus one, where a ceil-mode
    window must start inside the input or its left padding. Where torch has no
    output at all (a map smaller than one window), this returns the padding of
    one window over the whole map, so every input size gives an output.
    """
    span = size + 2 * padding - pool_size
    if ceil_mode:
        out = -(-span // strides) + 1 if span >= 0 else 1
        if (out - 1) * strides >= size + padding:
            out -= 1
    else:
        out = span // strides + 1 if span >= 0 else 1
    out = max(out, 1)
    after = max((out - 1) * strides + pool_size - size - padding, 0)
    return padding, after


@keras.saving.register_keras_serializable(package="zoo")
class TorchMaxPooling2D(layers.Layer):
    """`torch.nn.MaxPool2d(pool_size, strides, padding, ceil_mode=...)` on NHWC images.

    keras's "valid" pooling equals torch's floor mode without padding only;
    "same" pads at the end where torch's ceil mode does not (odd sizes), so
    weights ported from torchvision would see other windows. This layer pads
    exactly where torch's windows reach past the input, then pools "valid". It
    pads by repeating the edge row or column: every window holds at least one
    input value, and the repeated edge value is one of the window's own (its
    input part ends, or starts, at that edge), so the maximum is torch's, whose
    implicit padding is ignored. Not -inf: int8 quantizers calibrate every
    tensor's range, and an infinite one ruins them (docs/quantization.md). A
    map smaller than one window gives one output (torch raises), so every input
    size works.

    Args:
        pool_size: window size (int).
        strides: step (int).
        padding: implicit padding on each side (torch's `padding`).
        ceil_mode: torch's `ceil_mode`.
    """

    def __init__(self, pool_size, strides, padding=0, ceil_mode=False, **kwargs):
        super().__init__(**kwargs)
        self.pool_size, self.strides = int(pool_size), int(strides)
        self.padding, self.ceil_mode = int(padding), bool(ceil_mode)

    def _pads(self, shape):
        pads = []
        for size in shape[1:3]:
            if size is None:
                raise UserValueError(
                    f"{type(self).__name__} {self.name!r} needs static height and width. "
                    f"Received: input shape {tuple(shape)}"
                )
            pads.append(torch_pool_padding(size, self.pool_size, self.strides, self.padding,
                                           self.ceil_mode))
        return pads

    def call(self, inputs):
        (top, bottom), (left, right) = self._pads(inputs.shape)
        inputs = _repeat_edges(inputs, 1, top, bottom)
        inputs = _repeat_edges(inputs, 2, left, right)
        return ops.max_pool(inputs, self.pool_size, self.strides, padding="valid")

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, (before, after) in zip((1, 2), self._pads(input_shape)):
            size = input_shape[axis] + before + after
            out[axis] = (size - self.pool_size) // self.strides + 1
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "ceil_mode": self.ceil_mode}


def _repeat_edges(x, axis, before, after):
    """`x` with its first slice along `axis` repeated `before` times in front and its last
    `after` times behind (numpy's "edge" padding, which TensorFlow's pad lacks)."""
    if not before and not after:
        return x
    size = x.shape[axis]
    first = ops.take(x, [0] * before, axis=axis) if before else None
    last = ops.take(x, [size - 1] * after, axis=axis) if after else None
    return ops.concatenate([t for t in (first, x, last) if t is not None], axis=axis)


def adaptive_pool_matrix(size, out):
    """(out, size) matrix averaging torch's `AdaptiveAvgPool` bins of one dimension.

    Bin i covers [floor(i * size / out), ceil((i + 1) * size / out)): bins may
    overlap (size not a multiple of out) or repeat one row (out > size).
    """
    import numpy as np

    matrix = np.zeros((out, size), dtype="float32")
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


@keras.saving.register_keras_serializable(package="zoo")
class AdaptiveAveragePooling2D(layers.Layer):
    """torch's `AdaptiveAvgPool2d(output_size)` on NHWC images, for every input size.

    keras's layer of that name fails in a traced TensorFlow function when the
    output is larger than the input (a 1x1 map pooled to torchvision's 7x7
    before VGG's classifier). Here the bins are a constant averaging matrix per
    dimension (static height and width), applied with one einsum.

    Args:
        output_size: (height, width) of the output.
    """

    def __init__(self, output_size, **kwargs):
        super().__init__(**kwargs)
        self.output_size = tuple(int(s) for s in output_size)

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        if height is None or width is None:
            raise UserValueError(
                f"{type(self).__name__} {self.name!r} needs static height and width. "
                f"Received: input shape {tuple(inputs.shape)}")
        rows = ops.convert_to_tensor(adaptive_pool_matrix(height, self.output_size[0]),
                                     inputs.dtype)
        cols = ops.convert_to_tensor(adaptive_pool_matrix(width, self.output_size[1]),
                                     inputs.dtype)
        return ops.einsum("ih,bhwc,jw->bijc", rows, inputs, cols)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.output_size, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "output_size": list(self.output_size)}
