"""PyTorch half of the zoo step: gradients with `torch.autograd.grad`."""

import keras
import torch

from zoo.training.base import BaseZooModel, TracedFloat
from zoo.utils.optimizers import inner_optimizer


class ZooTrainer(BaseZooModel):
    def fit(self, *args, **kwargs):
        # optimizer.iterations mirrored on the host: read once per fit, counted here
        self._zoo_host_iterations = {}
        return super().fit(*args, **kwargs)

    def train_step(self, data):
        return self._zoo_train_step(data)

    def test_step(self, data):
        return self._zoo_test_step(data)

    def _value_and_grad(self, fn, variables, optimizer):
        loss, aux = fn()
        scaled = optimizer.scale_loss(loss)
        values = [v.value for v in variables]
        # None for a variable the loss does not use: keras's optimizers skip it
        grads = torch.autograd.grad(scaled, values, allow_unused=True)
        return loss.detach(), _detach(aux), list(grads)

    def _apply_gradients(self, optimizer, grads, variables):
        with torch.no_grad():
            optimizer.apply(grads, variables)
        counts = getattr(self, "_zoo_host_iterations", None)
        key = id(inner_optimizer(optimizer))
        if counts is not None and key in counts:
            counts[key] += 1

    def _scheduled_value(self, schedule, optimizer):
        # keras's torch optimizers take hyperparameters as Python numbers: evaluate the
        # schedule on the CPU from a host step count, so reading it is no device sync
        counts = getattr(self, "_zoo_host_iterations", None)
        if counts is None:
            counts = self._zoo_host_iterations = {}
        key = id(optimizer)
        if key not in counts:
            counts[key] = int(keras.ops.convert_to_numpy(optimizer.iterations))
        with keras.device("cpu"):
            return keras.ops.cast(schedule(counts[key]), "float32")

    def _traced_float(self, nominal, tensor):
        # torch runs eagerly: the value is a CPU tensor, read without a device sync
        return TracedFloat(float(tensor), tensor)


def _detach(aux):
    if isinstance(aux, torch.Tensor):
        return aux.detach()
    if isinstance(aux, dict):
        return {k: _detach(v) for k, v in aux.items()}
    if isinstance(aux, (list, tuple)):
        return type(aux)(_detach(v) for v in aux)
    return aux


def input_gradient(fn, x):
    """d sum(fn(x)) / dx, differentiable again (for gradient penalties)."""
    x = x if isinstance(x, torch.Tensor) else torch.as_tensor(x)
    # keras runs evaluation steps under torch.no_grad(); a gradient penalty
    # logged there still needs the graph of fn
    with torch.enable_grad():
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        y = fn(x)
        (grad,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    return grad
