"""SpeedNet: a small, wide convolutional network for fast training on a CPU (airbench's layout).

The family's package (docs/adding-a-family.md): `speed_net.py` the architecture,
`speednet_variants.py` the named variant, `speednet_tuning.py` the search space,
`test_speednet.py` the family's tests. `scripts/bench.py speedrun` trains it.
"""

from zoo.models.speednet.speed_net import SpeedNet
from zoo.models.speednet.speednet_variants import speednet

__all__ = ["SpeedNet", "speednet"]
