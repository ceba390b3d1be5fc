"""The MLP's named variant: `mlp`, the Fashion-MNIST network 784-256-128-64-32-10."""

from zoo.models.mlp.mlp import MLP
from zoo.registry import create, register

#: every variant's constructor arguments (MLP's defaults fill the rest)
VARIANTS = {"mlp": {}}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: two small hidden layers (dropout, which
    makes a 3-step loss curve on 8 examples a coin toss, is tested in tests/foundation)."""
    return {"input_shape": (6, 6, 1), "num_classes": 3, "hidden_units": (16, 8)}


@register(MLP, VARIANTS, weights=("fashion_mnist",))
def mlp(**kwargs):
    """The Fashion-MNIST MLP 784-256-128-64-32-10: 244,522 parameters."""
    return create("mlp", **kwargs)
