"""SpeedNet's named variant: one table, one builder (`SpeedNet`), one entry point."""

from zoo.models.speednet.speed_net import SpeedNet
from zoo.registry import create, register

#: every variant's constructor arguments (SpeedNet's defaults fill the rest)
VARIANTS = {
    "speednet": {"input_shape": (28, 28, 1), "num_classes": 10},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: a quarter of the width, every layer kind."""
    return {"width_multiplier": 0.25}


@register(SpeedNet, VARIANTS)
def speednet(**kwargs):
    """SpeedNet 32-64-128 for 28x28x1 images: 94,400 parameters; the speedrun widens it."""
    return create("speednet", **kwargs)
