"""ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s"): torchvision's ImageNet layout.

The family's package (docs/adding-a-family.md): `convnext.py` the architecture,
`convnext_variants.py` the named variants, `convnext_convert.py` the torchvision/timm
conversion rules, `convnext_tuning.py` the search space, `weights/` the published
entries, `test_convnext.py` the family's tests.
"""

from zoo.models.convnext.convnext import ConvNeXt
from zoo.models.convnext.convnext_variants import (
    convnext_base,
    convnext_large,
    convnext_small,
    convnext_tiny,
)

__all__ = ["ConvNeXt", "convnext_base", "convnext_large", "convnext_small", "convnext_tiny"]
