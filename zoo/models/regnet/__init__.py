"""RegNet (Radosavovic et al. 2020, "Designing Network Design Spaces"): torchvision's RegNetX
and RegNetY.

The family's package (docs/adding-a-family.md): `regnet.py` the architecture,
`regnet_variants.py` the named variants, `regnet_convert.py` the torchvision
conversion rules, `regnet_tuning.py` the search space, `weights/` the published
entries, `test_regnet.py` the family's tests.
"""

from zoo.models.regnet.regnet import RegNet
from zoo.models.regnet.regnet_variants import (
    regnet_x_1_6gf,
    regnet_x_3_2gf,
    regnet_x_8gf,
    regnet_x_16gf,
    regnet_x_32gf,
    regnet_x_400mf,
    regnet_x_800mf,
    regnet_y_1_6gf,
    regnet_y_3_2gf,
    regnet_y_8gf,
    regnet_y_16gf,
    regnet_y_32gf,
    regnet_y_400mf,
    regnet_y_800mf,
)

__all__ = ["RegNet", "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf", "regnet_x_16gf",
           "regnet_x_32gf", "regnet_x_400mf", "regnet_x_800mf", "regnet_y_1_6gf",
           "regnet_y_3_2gf", "regnet_y_8gf", "regnet_y_16gf", "regnet_y_32gf",
           "regnet_y_400mf", "regnet_y_800mf"]
