"""The zoo's learning-rate and momentum schedules (defined in `zoo.training.schedules`).

They are defined beside the training step, so `import zoo` registers them for
`keras.saving.load_model`; this module re-exports them for callback users.
"""

from zoo.training.schedules import (  # noqa: F401
    CosineWarmup,
    ExponentialSweep,
    MomentumSchedule,
    MultiStep,
    OneCycle,
    OneCycleMomentum,
    StepDecay,
    ZooSchedule,
    not_a_callback_message,
)
