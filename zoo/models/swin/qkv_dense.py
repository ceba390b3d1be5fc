"""`QKVDense`: the fused query-key-value projection, optionally without the key's bias."""

import keras
import numpy as np
from keras import layers, ops

from zoo.errors import UserValueError


@keras.saving.register_keras_serializable(package="zoo")
class QKVDense(layers.Dense):
    """A `Dense` of `units = 3 x dim` (query, key, value side by side) whose key part can
    leave out its bias.

    Swin V2 keeps the key's third of `qkv.bias` as a parameter but zeroes it in every
    forward pass (torchvision's `shifted_window_attention`): with `key_bias=False` the
    layer has the same (3 x dim,) bias, so checkpoints and parameter counts are
    torchvision's, and adds only its query and value thirds. It stays a keras `Dense`:
    `enable_lora` (keras's LoRA, `zoo.lora`) adapts its kernel, and a LoRA kernel is
    saved merged.

    Args:
        units: 3 x the token width.
        key_bias: add the key's third of the bias (Swin V1: True; V2: False).
        **kwargs: `keras.layers.Dense` arguments.

    Example:

    ```python
    qkv = QKVDense(3 * 96, key_bias=False, name="stage1_block0_attn_qkv")(tokens)
    ```
    """

    def __init__(self, units, key_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.key_bias = bool(key_bias)
        if units % 3:
            raise UserValueError(f"`units` must be 3 x the token width. Received: units={units}")

    def call(self, inputs, training=None):
        if self.key_bias or not self.use_bias:
            return super().call(inputs, training=training)
        third = self.units // 3
        keep = np.concatenate([np.ones(third), np.zeros(third), np.ones(third)])
        outputs = ops.matmul(inputs, self.kernel)
        outputs = outputs + ops.cast(self.bias, outputs.dtype) * ops.convert_to_tensor(
            keep, dtype=outputs.dtype)
        return self.activation(outputs) if self.activation is not None else outputs

    def get_config(self):
        return {**super().get_config(), "key_bias": self.key_bias}
