"""Inception v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer
Vision"): torchvision's layout.

The family's package (docs/adding-a-family.md): `inception_v3.py` the architecture,
`inception_variants.py` the named variant, `inception_convert.py` the torchvision
conversion rules, `inception_tuning.py` the search space, `weights/` the published
entry, `test_inception.py` the family's tests.
"""

from zoo.models.inception.inception_v3 import InceptionV3
from zoo.models.inception.inception_variants import inception_v3

__all__ = ["InceptionV3", "inception_v3"]
