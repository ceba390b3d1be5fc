"""The perceptron's named variant: `perceptron`, one sigmoid unit."""

from zoo.models.perceptron.perceptron import Perceptron
from zoo.registry import create, register

#: every variant's constructor arguments (Perceptron's defaults fill the rest)
VARIANTS = {"perceptron": {}}


def tiny_arguments(name):
    """`name` for the shared model tests (already tiny: two inputs, three parameters)."""
    return {"input_shape": (2,)}


@register(Perceptron, VARIANTS)
def perceptron(**kwargs):
    """Rosenblatt's perceptron: one Dense unit with a sigmoid (3 parameters at 2 inputs)."""
    return create("perceptron", **kwargs)
