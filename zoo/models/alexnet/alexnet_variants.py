"""AlexNet's named variant: `alexnet`, torchvision's single-tower layout."""

from zoo.models.alexnet.alexnet import AlexNet
from zoo.registry import create, register

#: every variant's constructor arguments (AlexNet's defaults fill the rest)
VARIANTS = {"alexnet": {}}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: an eighth of the width, no dropout (a
    3-step loss curve on 8 images is a coin toss with it)."""
    return {"width_multiplier": 0.125, "dropout": 0.0}


@register(AlexNet, VARIANTS, weights=("imagenet",))
def alexnet(**kwargs):
    """AlexNet, torchvision's layout: 61,100,840 trainable parameters at 224x224x3."""
    return create("alexnet", **kwargs)
