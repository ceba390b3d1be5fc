"""`QKVDense`: the fused query-key-value projection, optionally without the key's bias,
taking LoRA on chosen parts (query and value) of its kernel."""

import keras
import numpy as np
from keras import initializers, layers, ops

from zoo import compat
from zoo.errors import UserValueError

#: the thirds of the fused kernel, in torchvision's order
PARTS = ("query", "key", "value")


@keras.saving.register_keras_serializable(package="zoo")
class QKVDense(layers.Dense):
    """A `Dense` of `units = 3 x dim` (query, key, value side by side) whose key part can
    leave out its bias, and whose LoRA update can cover some of the three parts only.

    Swin V2 keeps the key's third of `qkv.bias` as a parameter but zeroes it in every
    forward pass (torchvision's `shifted_window_attention`): with `key_bias=False` the
    layer has the same (3 x dim,) bias, so checkpoints and parameter counts are
    torchvision's, and adds only its query and value thirds.

    LoRA: `enable_lora(rank)` is keras's (one update of the whole fused kernel);
    `enable_lora(rank, parts=("query", "value"))` gives each named part its own
    rank-`rank` update (`A_p @ B_p`, the key's third unchanged), as separate query and
    value projections get from KerasHub's default: `lora_kernel_a` holds the parts' A
    factors side by side (`(dim, len(parts) x rank)`), `lora_kernel_b` their B factors
    stacked (`(len(parts) x rank, dim)`). `zoo.lora.enable` does this by default (the
    layer's `fused_parts` tells it the parts). The merged kernel is what `kernel`
    returns and what is saved, as for keras's LoRA.

    Args:
        units: 3 x the token width.
        key_bias: add the key's third of the bias (Swin V1: True; V2: False).
        lora_parts: with `lora_rank`, the parts LoRA adapts (config round trip).
        **kwargs: `keras.layers.Dense` arguments.

    Example:

    ```python
    qkv = QKVDense(3 * 96, key_bias=False, name="stage1_block0_attn_qkv")(tokens)
    qkv.enable_lora(4, parts=("query", "value"))
    ```
    """

    #: what `zoo.lora.enable` may adapt inside the fused kernel
    fused_parts = PARTS

    def __init__(self, units, key_bias=True, lora_parts=None, **kwargs):
        super().__init__(units, **kwargs)
        self.key_bias = bool(key_bias)
        if units % 3:
            raise UserValueError(f"`units` must be 3 x the token width. Received: units={units}")
        self.lora_parts = None if lora_parts is None else self._check_parts(lora_parts)

    @staticmethod
    def _check_parts(parts):
        chosen = (parts,) if isinstance(parts, str) else tuple(parts)
        if not chosen or any(p not in PARTS for p in chosen) or len(set(chosen)) < len(chosen):
            raise UserValueError(f"`parts` must name some of {PARTS}, each once. "
                                 f"Received: parts={parts!r}")
        return tuple(p for p in PARTS if p in chosen)  # the kernel's order

    def build(self, input_shape):
        rank, parts = self.lora_rank, self.lora_parts
        if rank and parts:  # a config with part-wise LoRA: build plain, then enable it
            self.lora_rank, self.lora_parts = None, None
            super().build(input_shape)
            self.enable_lora(rank, self.lora_alpha, parts=parts)
        else:
            super().build(input_shape)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform",
                    b_initializer="zeros", parts=None):
        """keras's `Dense.enable_lora`; `parts` (some of "query", "key", "value") gives
        each of those thirds its own rank-`rank` update and leaves the others alone."""
        if parts is None:
            return super().enable_lora(rank, lora_alpha, a_initializer, b_initializer)
        parts = self._check_parts(parts)
        if not self.built:
            raise UserValueError("Cannot enable lora on a layer that isn't yet built. "
                                 f"Received: layer={self.name!r}")
        if self.lora_enabled:
            raise UserValueError("lora is already enabled. This can only be done once per "
                                 f"layer. Received: layer={self.name!r}")
        if self.quantization_mode is not None or self.kernel_constraint:
            raise UserValueError("Part-wise LoRA needs a float kernel without a constraint. "
                                 f"Received: quantization_mode={self.quantization_mode!r}")
        kernel = compat.stored_kernel(self)

        def add(name, shape, initializer):
            return self.add_weight(name=name, shape=shape, dtype="float32",
                                   initializer=initializers.get(initializer),
                                   regularizer=self.kernel_regularizer)

        self.lora_kernel_a, self.lora_kernel_b = compat.add_weights_after_build(self, lambda: (
            add("lora_kernel_a", (kernel.shape[0], len(parts) * rank), a_initializer),
            add("lora_kernel_b", (len(parts) * rank, self.units // 3), b_initializer)))
        kernel.trainable = False
        self.lora_enabled = True
        self.lora_rank = rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else rank
        self.lora_parts = parts

    @property
    def kernel(self):
        if not (self.lora_enabled and self.lora_parts):
            return super().kernel
        rank, dim = self.lora_rank, self.units // 3
        a, b = self.lora_kernel_a, self.lora_kernel_b
        blocks = []
        for part in PARTS:  # each adapted third: A_p @ B_p; the others: no update
            if part in self.lora_parts:
                i = self.lora_parts.index(part) * rank
                blocks.append(ops.matmul(a[:, i:i + rank], b[i:i + rank]))
            else:
                blocks.append(ops.zeros((a.shape[0], dim), dtype=a.dtype))
        delta = (self.lora_alpha / self.lora_rank) * ops.concatenate(blocks, axis=1)
        return ops.cast(ops.add(compat.stored_kernel(self), delta), self.compute_dtype)

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
        config = {**super().get_config(), "key_bias": self.key_bias}
        if self.lora_rank and self.lora_parts:
            config["lora_parts"] = list(self.lora_parts)
        return config
