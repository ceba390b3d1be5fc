"""`standard_callbacks`: the zoo's usual set in one call."""

import os

import keras

from callbacks.checkpoint import Checkpoint
from callbacks.data_epoch import DataEpoch
from callbacks.scheduler import Scheduler
from callbacks.tensorboard import tensorboard_callbacks, tensorboard_dir
from zoo.errors import UserValueError


def checkpoint_dir(run_dir):
    """The checkpoint directory of a run directory (`<run_dir>/checkpoints`)."""
    return os.path.join(str(run_dir), "checkpoints")


def standard_callbacks(
    run_dir,
    schedule=None,
    momentum=None,
    monitor="val_loss",
    mode="auto",
    keep=3,
    resume=False,
    save_best=True,
    tensorboard=True,
    update_freq=None,
    histogram_freq=0,
    hparams=None,
    trial_id=None,
    terminate_on_nan=True,
    data_epoch=None,
):
    """Schedules, checkpointing, TensorBoard and `TerminateOnNaN`, in the order they need.

    `Scheduler` comes first (installing a schedule changes the optimizer state
    that `Checkpoint` restores), then `Checkpoint` in `<run_dir>/checkpoints`,
    keras's `TensorBoard` (epoch summaries) and `StepScalars` (step logs with lr
    and momentum, HParams) in `<run_dir>/tensorboard`, keras `TerminateOnNaN`,
    and `DataEpoch` when a dataset epoch variable is given.

    Args:
        run_dir: the run's directory.
        schedule: learning-rate schedule for `Scheduler` (e.g. `OneCycle(max_lr=0.4)`), or None.
        momentum: momentum schedule for `Scheduler`, or None (the schedule's own).
        monitor, mode, keep, save_best, resume: `Checkpoint` arguments.
        tensorboard: add the TensorBoard callbacks (`tensorboard_callbacks`).
        update_freq: step-log period. None: every step when a
            schedule is given (its values change every step), else every 50
            steps (logging every step costs ~1 ms a step on a 2-core CPU).
        histogram_freq, hparams, trial_id: see `tensorboard_callbacks`.
        terminate_on_nan: add `keras.callbacks.TerminateOnNaN`.
        data_epoch: the int64 `tf.Variable` of `zoo.datasets.load(..., epoch=...)`,
            for the same data order after a resume.

    Returns:
        A list of callbacks for `fit`.

    Example:

    ```python
    model.fit(train, validation_data=test, epochs=10,
              callbacks=standard_callbacks("runs/r18", schedule=OneCycle(max_lr=0.4)))
    ```
    """
    if not run_dir:
        raise UserValueError(f"`run_dir` must be a non-empty path. Received: run_dir={run_dir!r}")
    scheduled = schedule is not None or momentum is not None
    if update_freq is None:
        update_freq = 1 if scheduled else 50
    callbacks = []
    if scheduled:
        callbacks.append(Scheduler(schedule, momentum=momentum))
    callbacks.append(
        Checkpoint(
            checkpoint_dir(run_dir),
            monitor=monitor,
            mode=mode,
            keep=keep,
            save_best=save_best,
            resume=resume,
        )
    )
    if tensorboard:
        callbacks += tensorboard_callbacks(
            tensorboard_dir(run_dir),
            update_freq=update_freq,
            histogram_freq=histogram_freq,
            hparams=hparams,
            trial_id=trial_id,
        )
    if terminate_on_nan:
        callbacks.append(keras.callbacks.TerminateOnNaN())
    if data_epoch is not None:
        callbacks.append(DataEpoch(data_epoch))
    return callbacks
