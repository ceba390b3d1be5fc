"""`ZooModel`: the zoo's `keras.Model` with one custom training step.

The backend module is chosen once, at import, from `keras.backend.backend()`,
as keras chooses its own trainer.
"""

import importlib

import keras

# The shared schedules register themselves for keras.saving (a saved optimizer
# may hold one): importing the training layer is enough to load such a model.
from zoo.errors import UserImportError
from zoo.training import schedules  # noqa: F401
from zoo.training.base import Player
from zoo.training.input_checks import InputRange
from zoo.training.guard import NonFiniteError
from zoo.training.players import PlayerOptimizers
from zoo.utils.optimizers import momentum_attribute

_BACKENDS = {
    "tensorflow": "zoo.training.tensorflow_trainer",
    "jax": "zoo.training.jax_trainer",
    "torch": "zoo.training.torch_trainer",
}

_backend = keras.backend.backend()
if _backend not in _BACKENDS:
    raise UserImportError(
        f"keras-zoo supports the backends {sorted(_BACKENDS)}. "
        f"Received: KERAS_BACKEND={_backend!r}"
    )
_module = importlib.import_module(_BACKENDS[_backend])


class ZooModel(_module.ZooTrainer):
    """Base class of every zoo architecture: a `keras.Model` with the zoo step.

    The step (same on TensorFlow, JAX and PyTorch) runs the forward pass, the
    loss, gradients and the optimizer update; scales the loss under
    `mixed_float16`; clips gradients to `gradient_clip_norm`; divides the loss
    for `tf.distribute` so gradients are those of the global batch; and logs
    `lr` and `momentum` with the metrics. Under `keras.distribution.DataParallel`
    (JAX) it needs nothing more: the jitted step sees the global batch (see
    `jax_trainer`).

    What a family changes is backend-free: `default_loss`/`default_metrics`,
    `compute_loss`, or `players()` for adversarial training.

    Args:
        gradient_clip_norm: optional global-norm clip of the gradients.
        **kwargs: passed to `keras.Model` (e.g. `name`).
    """


input_gradient = _module.input_gradient
input_gradient.__doc__ = """Gradient of `sum(fn(x))` with respect to `x`, itself differentiable.

Use inside a loss (e.g. WGAN-GP's gradient penalty); works on every backend.
"""

#: `fused_batch_norm(x, scale, offset, epsilon) -> (y, batch mean, batch variance)` in
#: training where the backend has a faster fused kernel than keras's op-by-op batch
#: normalization (TensorFlow), else None (XLA fuses JAX's itself)
fused_batch_norm = getattr(_module, "fused_batch_norm", None)

__all__ = [
    "InputRange",
    "NonFiniteError",
    "Player",
    "PlayerOptimizers",
    "ZooModel",
    "fused_batch_norm",
    "input_gradient",
    "momentum_attribute",
]
