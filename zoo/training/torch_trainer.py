"""PyTorch half of the zoo step: gradients with `torch.autograd.grad`."""

import torch

from zoo.training.base import BaseZooModel, TracedFloat


class ZooTrainer(BaseZooModel):
    def train_step(self, data):
        return self._zoo_train_step(data)

    def test_step(self, data):
        return self._zoo_test_step(data)

    def _value_and_grad(self, fn, variables, optimizer):
        loss, aux = fn()
        scaled = optimizer.scale_loss(loss)
        values = [v.value for v in variables]
        grads = torch.autograd.grad(scaled, values, allow_unused=True)
        grads = [torch.zeros_like(v) if g is None else g for g, v in zip(grads, values)]
        return loss.detach(), _detach(aux), grads

    def _apply_gradients(self, optimizer, grads, variables):
        with torch.no_grad():
            optimizer.apply(grads, variables)

    def _traced_float(self, nominal, tensor):
        # torch runs eagerly: the current value is simply a Python float.
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
