"""VGG (Simonyan & Zisserman 2014): torchvision's layouts and a CIFAR-100 VGG-13."""

from zoo.models.vgg.vgg import VGG
from zoo.models.vgg.vgg_variants import (
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg13_cifar,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg13_cifar", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn"]
