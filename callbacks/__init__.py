"""Callbacks shared by every zoo family, any user script and the tuner.

```python
from callbacks import standard_callbacks, OneCycle
model.fit(train, validation_data=test, epochs=10,
          callbacks=standard_callbacks("runs/r18", schedule=OneCycle(max_lr=0.4)))
```

- `Scheduler` + schedules (`OneCycle`, `CosineWarmup`, `StepDecay`, `MultiStep`,
  any keras `LearningRateSchedule`, `MomentumSchedule`): evaluated in the
  compiled step from `optimizer.iterations`, so they change every step.
- `Checkpoint`: best model by a metric, latest state every epoch, atomic, exact resume.
- `TensorBoard`: keras's, with step-wise lr/momentum, `log_images`, HParams.
- `LRFinder`: learning-rate range test with a PNG plot.
- `DataEpoch`: epoch-keyed shuffling for resumed runs.
"""

from callbacks.checkpoint import Checkpoint
from callbacks.data_epoch import DataEpoch
from callbacks.lr_finder import LRFinder
from callbacks.scheduler import Scheduler, install
from callbacks.schedules import (
    CosineWarmup,
    ExponentialSweep,
    MomentumSchedule,
    MultiStep,
    OneCycle,
    OneCycleMomentum,
    StepDecay,
    ZooSchedule,
)
from callbacks.standard import checkpoint_dir, standard_callbacks
from callbacks.tensorboard import (
    TensorBoard,
    log_images,
    tensorboard_dir,
    write_hparams,
    write_hparams_config,
)

__all__ = [
    "Checkpoint",
    "CosineWarmup",
    "DataEpoch",
    "ExponentialSweep",
    "LRFinder",
    "MomentumSchedule",
    "MultiStep",
    "OneCycle",
    "OneCycleMomentum",
    "Scheduler",
    "StepDecay",
    "TensorBoard",
    "ZooSchedule",
    "checkpoint_dir",
    "install",
    "log_images",
    "standard_callbacks",
    "tensorboard_dir",
    "write_hparams",
    "write_hparams_config",
]
