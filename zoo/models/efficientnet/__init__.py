"""EfficientNet (Tan & Le 2019) and EfficientNetV2 (Tan & Le 2021): torchvision's layouts.

The family's package (docs/adding-a-family.md): `efficientnet.py` the architecture (its
blocks are `zoo.models.vision_layers.inverted_residual`), `efficientnet_variants.py` the
named variants, `efficientnet_convert.py` the torchvision/timm conversion rules,
`efficientnet_tuning.py` the search space, `weights/` the published entries,
`test_efficientnet.py` the family's tests.
"""

from zoo.models.efficientnet.efficientnet import EfficientNet
from zoo.models.efficientnet.efficientnet_variants import (
    efficientnet_b0,
    efficientnet_b1,
    efficientnet_b2,
    efficientnet_b3,
    efficientnet_b4,
    efficientnet_b5,
    efficientnet_b6,
    efficientnet_b7,
    efficientnet_v2_l,
    efficientnet_v2_m,
    efficientnet_v2_s,
)

__all__ = ["EfficientNet", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2",
           "efficientnet_b3", "efficientnet_b4", "efficientnet_b5", "efficientnet_b6",
           "efficientnet_b7", "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"]
