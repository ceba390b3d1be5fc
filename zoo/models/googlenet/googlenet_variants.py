"""GoogLeNet's named variant: `googlenet`, torchvision's layout of Inception v1."""

from zoo.models.googlenet.googlenet import GoogLeNet
from zoo.registry import create, register

#: every variant's constructor arguments (GoogLeNet's defaults fill the rest)
VARIANTS = {"googlenet": {}}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: an eighth of the width, no dropout."""
    return {"width_multiplier": 0.125, "dropout": 0.0}


@register(GoogLeNet, VARIANTS, weights=("imagenet",))
def googlenet(**kwargs):
    """GoogLeNet, torchvision's layout: 6,624,904 trainable parameters (13,004,888 with the
    auxiliary heads)."""
    return create("googlenet", **kwargs)
