"""ResNet (He et al. 2015/2016): torchvision's ImageNet layout and the CIFAR layout.

The family's package (docs/adding-a-family.md): `resnet.py` the architecture,
`resnet_variants.py` the named variants, `resnet_convert.py` the torchvision/timm
conversion rules, `resnet_tuning.py` the search space, `weights/` the published
entries, `test_resnet.py` the family's tests.
"""

from zoo.models.resnet.resnet import ResNet
from zoo.models.resnet.resnet_variants import (
    resnet18,
    resnet20,
    resnet32,
    resnet34,
    resnet44,
    resnet50,
    resnet56,
    resnet101,
    resnet110,
    resnet152,
    resnext50_32x4d,
    resnext101_32x8d,
    resnext101_64x4d,
    wide_resnet50_2,
    wide_resnet101_2,
)

__all__ = ["ResNet", "resnet18", "resnet20", "resnet32", "resnet34", "resnet44", "resnet50",
           "resnet56", "resnet101", "resnet110", "resnet152", "resnext50_32x4d",
           "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"]
