"""`Scheduler`: installs learning-rate and momentum schedules at the start of training."""

import keras
import numpy as np

from callbacks._common import DeepCopyable, require_optimizer, retrace
from zoo import compat
from zoo.errors import UserTypeError, UserValueError
from zoo.training.schedules import MomentumSchedule, ZooSchedule
from zoo.utils.optimizers import leaf_optimizers


class Scheduler(DeepCopyable, keras.callbacks.Callback):
    """Installs a learning-rate schedule, and a momentum schedule, for every step.

    At `on_train_begin` the learning-rate schedule (completed with fit's epochs
    and steps where it has no length, see `ZooSchedule.resolve`) becomes
    `optimizer.learning_rate`, so keras evaluates it from `optimizer.iterations`
    inside the compiled step; the momentum schedule goes to
    `ZooModel.set_momentum_schedule`, which swaps it into SGD's `momentum` /
    Adam's `beta_1` for each update. Nothing is assigned from Python per batch,
    so the values change every step on TensorFlow, JAX and PyTorch, and a
    resumed run (restored `iterations`) continues every schedule where it was.
    The schedules stay installed after training, so `model.save` records them.
    A schedule's position is the optimizer's iteration count: a second `fit`
    continues it rather than starting it again.

    Put it before `Checkpoint` in the callback list: installing a schedule
    replaces the optimizer's learning-rate variable, which changes the
    optimizer state a checkpoint restores.

    Args:
        schedule: a zoo schedule (`OneCycle`, `CosineWarmup`, `StepDecay`,
            `MultiStep`) or any `keras.optimizers.schedules.LearningRateSchedule`
            (passed through), or None to leave the learning rate alone.
        momentum: a `MomentumSchedule` or any callable `step -> momentum`
            (keras.ops). None: the schedule's own (e.g. `OneCycle(momentum=...)`).
            Needs a `zoo.ZooModel` and an optimizer with momentum.
        verbose: 1 prints what was installed.

    Example:

    ```python
    model.fit(train, epochs=10, callbacks=[Scheduler(OneCycle(max_lr=0.4))])
    ```
    """

    def __init__(self, schedule=None, momentum=None, verbose=0):
        super().__init__()
        if schedule is not None and not isinstance(
            schedule, keras.optimizers.schedules.LearningRateSchedule
        ):
            raise UserTypeError(
                "`schedule` must be a keras.optimizers.schedules.LearningRateSchedule "
                f"(e.g. callbacks.OneCycle) or None. Received: schedule={schedule!r}"
            )
        if momentum is not None and not callable(momentum):
            raise UserTypeError(
                "`momentum` must be callable(step) -> momentum or None. "
                f"Received: momentum={momentum!r}"
            )
        if schedule is None and momentum is None:
            raise UserValueError(
                "Scheduler needs a `schedule`, a `momentum` schedule, or both. Received: neither"
            )
        self.schedule = schedule
        self.momentum = momentum
        self.verbose = verbose
        self.installed = None
        self.installed_momentum = None

    def resolved(self, epochs=None, steps_per_epoch=None):
        """(learning-rate schedule, momentum schedule) for a run of that length."""
        lr = self.schedule
        if isinstance(lr, ZooSchedule):
            lr = lr.resolve(epochs, steps_per_epoch)
        momentum = self.momentum
        if momentum is None and isinstance(lr, ZooSchedule):
            momentum = lr.momentum_schedule()
        if momentum is not None and not isinstance(momentum, MomentumSchedule):
            momentum = MomentumSchedule(momentum)
        return lr, momentum

    def on_train_begin(self, logs=None):
        params = self.params or {}
        lr, momentum = self.resolved(params.get("epochs"), params.get("steps"))
        install(self.model, lr, momentum)
        self.installed, self.installed_momentum = lr, momentum
        if self.verbose:
            print(f"Scheduler: learning rate {lr!r}, momentum {momentum!r}")


def install(model, schedule=None, momentum=None):
    """Makes `schedule` the learning rate and `momentum` the momentum of every
    update of `model` (see `Scheduler`); validates everything before changing anything."""
    optimizer = require_optimizer(model, "Scheduler")
    if momentum is not None:
        if not hasattr(model, "set_momentum_schedule"):
            raise UserTypeError(
                "A momentum schedule needs a zoo.ZooModel: a plain keras model's step reads "
                "SGD.momentum / Adam.beta_1 as a constant baked into the compiled function. "
                "Use a learning-rate schedule only, or a zoo model. "
                f"Received: model of type {type(model).__name__}"
            )
        _check_momentum_values(momentum)
        # validates the optimizer (momentum present and non-zero) before any change
        model.set_momentum_schedule(momentum)
        _record_in_compile_config(model, momentum)
    if schedule is not None:
        for leaf in leaf_optimizers(optimizer):
            leaf.learning_rate = schedule
    retrace(model)


def _check_momentum_values(momentum):
    first = float(np.asarray(keras.ops.convert_to_numpy(momentum(0))))
    if not 0 <= first < 1:
        raise UserValueError(
            f"A momentum schedule must give values in [0, 1). Received: momentum(0)={first!r}"
        )


def _record_in_compile_config(model, momentum):
    # ZooModel.compile(momentum_schedule=...) replays from the saved compile
    # config, so a `.keras` file brings the momentum schedule back too.
    config = compat.compile_arguments(model)
    if config is None:
        return
    if momentum.serializable():
        config["momentum_schedule"] = momentum
    else:
        config.pop("momentum_schedule", None)
