"""GoogLeNet / Inception v1 (Szegedy et al. 2014), torchvision's layout."""

from zoo.models.googlenet.googlenet import GoogLeNet
from zoo.models.googlenet.googlenet_variants import googlenet

__all__ = ["GoogLeNet", "googlenet"]
