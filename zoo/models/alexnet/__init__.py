"""AlexNet (Krizhevsky et al. 2012), torchvision's single-tower layout."""

from zoo.models.alexnet.alexnet import AlexNet
from zoo.models.alexnet.alexnet_variants import alexnet

__all__ = ["AlexNet", "alexnet"]
