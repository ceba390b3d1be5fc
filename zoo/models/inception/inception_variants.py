"""Inception's named variant: `inception_v3`, torchvision's layout."""

from zoo.models.inception.inception_v3 import InceptionV3
from zoo.registry import create, register

#: every variant's constructor arguments (InceptionV3's defaults fill the rest)
VARIANTS = {"inception_v3": {}}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: every module kind at an eighth of the
    width, at its smallest input (75x75), no dropout."""
    return {"input_shape": (75, 75, 3), "width_multiplier": 0.125, "dropout": 0.0}


@register(InceptionV3, VARIANTS, weights=("imagenet",))
def inception_v3(**kwargs):
    """Inception v3, torchvision's layout: 23,834,568 trainable parameters (27,161,264 with
    the auxiliary head)."""
    return create("inception_v3", **kwargs)
