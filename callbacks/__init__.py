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
- TensorBoard: keras's own callback for epoch summaries, plus `StepScalars`
  (step-wise logs with lr/momentum, `log_images`, HParams); `tensorboard_callbacks`
  makes both.
- `LRFinder`: learning-rate range test with a PNG plot.
- `DataEpoch`: epoch-keyed shuffling for resumed runs.
- `ImageGrid`: a generative model's sample/reconstruction grids each epoch.
- `GradualUnfreezing`, `discriminative_multipliers`: ULMFiT's fine-tuning (layer
  groups unfrozen from the top, each group's rate divided by `decay` per depth).
"""

from callbacks.checkpoint import Checkpoint
from callbacks.data_epoch import DataEpoch
from callbacks.image_grid import ImageGrid, tile_images
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
    StepScalars,
    log_images,
    tensorboard_callbacks,
    tensorboard_dir,
    write_hparams,
    write_hparams_config,
)
from callbacks.unfreezing import GradualUnfreezing, discriminative_multipliers, layer_groups

__all__ = [
    "Checkpoint",
    "CosineWarmup",
    "DataEpoch",
    "ExponentialSweep",
    "GradualUnfreezing",
    "ImageGrid",
    "LRFinder",
    "MomentumSchedule",
    "MultiStep",
    "OneCycle",
    "OneCycleMomentum",
    "Scheduler",
    "StepDecay",
    "StepScalars",
    "ZooSchedule",
    "checkpoint_dir",
    "discriminative_multipliers",
    "install",
    "layer_groups",
    "log_images",
    "standard_callbacks",
    "tensorboard_callbacks",
    "tensorboard_dir",
    "tile_images",
    "write_hparams",
    "write_hparams_config",
]
