"""MobileNetV2 (Sandler et al. 2018) and MobileNetV3 (Howard et al. 2019): torchvision's layouts.

The family's package (docs/adding-a-family.md): `mobilenetv2.py` and `mobilenetv3.py` the
architectures (their blocks are `zoo.models.vision_layers.inverted_residual`),
`mobilenet_variants.py` the named variants, `mobilenet_convert.py` the torchvision/timm
conversion rules, `mobilenet_tuning.py` the search space, `weights/` the published
entries, `test_mobilenet.py` the family's tests.
"""

from zoo.models.mobilenet.mobilenet_variants import (
    mobilenet_v2,
    mobilenet_v3_large,
    mobilenet_v3_small,
)
from zoo.models.mobilenet.mobilenetv2 import MobileNetV2
from zoo.models.mobilenet.mobilenetv3 import MobileNetV3

__all__ = ["MobileNetV2", "MobileNetV3", "mobilenet_v2", "mobilenet_v3_large",
           "mobilenet_v3_small"]
