"""DenseNet (Huang et al. 2017): torchvision's ImageNet layout and DenseNet-BC for CIFAR."""

from zoo.models.densenet.densenet import DenseNet
from zoo.models.densenet.densenet_variants import (
    densenet121,
    densenet161,
    densenet169,
    densenet201,
    densenet_bc_100,
)

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201",
           "densenet_bc_100"]
