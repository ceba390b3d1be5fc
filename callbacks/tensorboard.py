"""TensorBoard for zoo runs: keras's own `keras.callbacks.TensorBoard` plus `StepScalars`.

keras's callback writes the epoch summaries (train and validation scalars,
histograms, the graph); `StepScalars` writes each N-th step's logs, with the
`lr` and `momentum` that update used, numbered by `optimizer.iterations` so a
resumed run extends its curves; and the run's HParams and images, into the
same log directory. Summaries go through `tf.summary` (TensorFlow is a
dependency of the zoo), so the same files are written under every backend.
"""

import os

import keras
import numpy as np

from callbacks._common import DeepCopyable, iterations, to_float
from zoo import compat
from zoo.errors import UserTypeError, UserValueError
from zoo.training import distribution
from zoo.utils.checks import check_positive_int
from zoo.utils.optimizers import inner_optimizer

_IMAGE_WRITERS = {}


def tensorboard_dir(run_dir):
    """The TensorBoard log directory of a run directory (`<run_dir>/tensorboard`)."""
    return os.path.join(str(run_dir), "tensorboard")


def tensorboard_callbacks(log_dir, update_freq=50, histogram_freq=0, hparams=None,
                          trial_id=None):
    """keras's `TensorBoard` (epoch summaries) and a `StepScalars` (steps, HParams) for `log_dir`.

    Args:
        log_dir: the run's TensorBoard directory (`train/` and `validation/` go in it).
        update_freq: step logs every this many steps (int > 0), or "epoch" (none).
        histogram_freq: weight histograms every this many epochs (0: never).
        hparams, trial_id: the run's HParams summary (see `StepScalars`).

    Example:

    ```python
    model.fit(train, validation_data=val, epochs=5,
              callbacks=tensorboard_callbacks("runs/r18/tensorboard", update_freq=10))
    ```

    In a multi-process run only process 0 writes: the others get no callback
    (the logs are the same on every process).
    """
    if not distribution.is_chief():
        return []
    return [
        keras.callbacks.TensorBoard(
            log_dir=str(log_dir), update_freq="epoch", histogram_freq=histogram_freq,
            write_graph=False,
        ),
        StepScalars(log_dir, update_freq=update_freq, hparams=hparams, trial_id=trial_id),
    ]


class StepScalars(DeepCopyable, keras.callbacks.Callback):
    """Writes every `update_freq`-th step's logs as `batch_<name>` scalars in `<log_dir>/train`.

    With a `zoo.ZooModel` the logs hold `lr` and `momentum`, the values that
    update used; for other models the optimizer's learning rate at that step
    is added. Steps are numbered by `optimizer.iterations`, so a resumed run
    continues its curves. Use beside `keras.callbacks.TensorBoard` on the same
    `log_dir` (it writes the epoch summaries): `tensorboard_callbacks` makes both.
    In a multi-process run it writes on process 0 only.

    Args:
        log_dir: the run's TensorBoard directory.
        update_freq: write every this many steps (int > 0), "batch" (every
            step) or "epoch" (no step scalars: HParams and images only).
        hparams: dict `{name: value}` of the run's hyperparameters, written as
            a TensorBoard HParams summary at the start of training, or None.
        trial_id: the run's name in the HParams dashboard.

    Example:

    ```python
    model.fit(train, epochs=5, callbacks=[keras.callbacks.TensorBoard("tb", update_freq="epoch"),
                                          StepScalars("tb", update_freq=10, hparams={"lr": 0.1})])
    ```
    """

    _transient = {compat.CALLBACK_MODEL_ATTRIBUTE: lambda: None, "_writer": lambda: None}

    def __init__(self, log_dir, update_freq=1, hparams=None, trial_id=None):
        super().__init__()
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch":
            try:
                update_freq = check_positive_int("update_freq", update_freq)
            except ValueError:
                raise UserValueError(
                    "`update_freq` must be an int > 0, 'batch' or 'epoch'. "
                    f"Received: update_freq={update_freq!r}"
                ) from None
        if hparams is not None and not isinstance(hparams, dict):
            raise UserTypeError(
                f"`hparams` must be a dict {{name: value}}. Received: hparams={hparams!r}"
            )
        self.log_dir = str(log_dir)
        self.update_freq = update_freq
        self.hparams = dict(hparams) if hparams else None
        self.trial_id = trial_id
        self._iteration = 0
        self.silent = False
        self._writer = None

    def on_train_begin(self, logs=None):
        self._iteration = iterations(self.model)  # the one device read per fit; then counted here
        self.silent = not distribution.is_chief()
        if self.hparams and not self.silent:
            write_hparams(self.log_dir, self.hparams, trial_id=self.trial_id)

    def on_train_batch_end(self, batch, logs=None):
        self._iteration += 1
        if self.update_freq == "epoch" or self._iteration % self.update_freq or not logs:
            return
        if self.silent:
            return
        import tensorflow as tf

        values = {k: to_float(v) for k, v in logs.items()}
        if "lr" not in values:
            lr = _learning_rate_at(self.model, self._iteration - 1)
            if lr is not None:
                values["lr"] = lr
        writer = self._scalar_writer()
        with writer.as_default(), tf.summary.record_if(True):
            for name, value in values.items():
                tf.summary.scalar(f"batch_{name}", value, step=self._iteration)

    def on_epoch_end(self, epoch, logs=None):
        if self._writer is not None:
            self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _scalar_writer(self):
        if self._writer is None:
            import tensorflow as tf

            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "train"))
        return self._writer

    def log_images(self, tag, images, step=None, max_outputs=16):
        """Writes `images` ((N, H, W, C), (H, W, C) or (H, W); floats in [0, 1] or uint8)
        as an image summary `tag` in this run's `train` directory (`step`: default the
        optimizer's iteration count)."""
        if step is None:
            step = iterations(self.model) if self.model is not None else 0
        log_images(self.log_dir, tag, images, step, max_outputs)


def _learning_rate_at(model, step):
    """The learning rate the update numbered `step` used, for models whose step does not log it."""
    optimizer = getattr(model, "optimizer", None)
    optimizer = inner_optimizer(optimizer)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        return None
    source = compat.learning_rate_object(optimizer)
    if isinstance(source, keras.optimizers.schedules.LearningRateSchedule):
        return to_float(source(step))
    return to_float(optimizer.learning_rate)


def log_images(log_dir, tag, images, step, max_outputs=16):
    """Writes an image summary into `<log_dir>/train`: beside the run's step and epoch scalars.

    Args:
        log_dir: the TensorBoard log directory of the run (`tensorboard_dir(run_dir)`).
        tag: summary name, e.g. "samples".
        images: (N, H, W, C), (H, W, C) or (H, W); floats in [0, 1] or uint8.
        step: the step (e.g. the epoch) the images belong to.
        max_outputs: at most this many images of the batch are kept.

    Example:

    ```python
    log_images(tensorboard_dir(run_dir), "samples", grid, step=epoch)
    ```

    In a multi-process run only process 0 writes; elsewhere this does nothing.
    """
    import tensorflow as tf

    if not distribution.is_chief():
        return

    data = np.asarray(keras.ops.convert_to_numpy(images))
    if data.ndim == 2:
        data = data[None, :, :, None]
    elif data.ndim == 3:
        data = data[None]
    if data.ndim != 4 or data.shape[-1] not in (1, 3, 4):
        raise UserValueError(
            "`images` must be (N, H, W, C), (H, W, C) or (H, W) with C in (1, 3, 4). "
            f"Received: images with shape {np.shape(images)}"
        )
    if data.dtype != np.uint8:
        data = np.clip(data.astype(np.float32), 0.0, 1.0)
    path = os.path.abspath(os.path.join(str(log_dir), "train"))
    writer = _IMAGE_WRITERS.get(path)
    if writer is None:
        writer = _IMAGE_WRITERS[path] = tf.summary.create_file_writer(path)
    with writer.as_default(), tf.summary.record_if(True):
        tf.summary.image(tag, data, step=int(step), max_outputs=max_outputs)
    writer.flush()


def write_hparams(log_dir, hparams, trial_id=None):
    """Writes the HParams plugin's summary of one run (its hyperparameter values) into `log_dir`.

    Values that are not bool/int/float/str are written as strings.

    Args:
        log_dir: the run's TensorBoard log directory.
        hparams: dict `{name: value}`.
        trial_id: the run's name in the HParams dashboard.

    Example:

    ```python
    write_hparams("runs/trial_3/tensorboard", {"lr": 0.01, "width": 64}, trial_id="trial_3")
    ```
    """
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    values = {str(k): _hparam_value(v) for k, v in hparams.items()}
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default(), tf.summary.record_if(True):
        hp.hparams(values, trial_id=trial_id)
    writer.close()


def write_hparams_config(log_dir, hparams, metrics=None):
    """Writes the HParams experiment summary (the search space and metrics) into `log_dir`.

    Args:
        log_dir: the experiment's top directory (the runs are below it).
        hparams: dict `{name: domain}`, a domain being a list of values
            (discrete), a `(low, high)` pair of ints or floats (interval), or
            a `tensorboard.plugins.hparams.api.HParam`.
        metrics: tags to compare, as `"tag"` or `("tag", "group")` pairs;
            default: validation and train `epoch_loss`, validation `epoch_accuracy`.

    Example:

    ```python
    write_hparams_config("runs/search", {"lr": (1e-4, 1e-1), "width": [32, 64]})
    ```
    """
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    params = [_hparam(name, domain) for name, domain in hparams.items()]
    if metrics is None:
        metrics = [
            ("epoch_loss", "validation"),
            ("epoch_accuracy", "validation"),
            ("epoch_loss", "train"),
        ]
    metric_objs = []
    for metric in metrics:
        tag, group = (metric, None) if isinstance(metric, str) else metric
        metric_objs.append(hp.Metric(tag, group=group))
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default(), tf.summary.record_if(True):
        hp.hparams_config(hparams=params, metrics=metric_objs)
    writer.close()


def _hparam(name, domain):
    from tensorboard.plugins.hparams import api as hp

    if isinstance(domain, hp.HParam):
        return domain
    if isinstance(domain, tuple) and len(domain) == 2:
        low, high = domain
        if all(isinstance(v, int) and not isinstance(v, bool) for v in domain):
            return hp.HParam(name, hp.IntInterval(low, high))
        return hp.HParam(name, hp.RealInterval(float(low), float(high)))
    if isinstance(domain, (list, set)):
        return hp.HParam(name, hp.Discrete([_hparam_value(v) for v in domain]))
    raise UserValueError(
        "An hparams domain must be a list, a (low, high) pair or an HParam. "
        f"Received: {name}={domain!r}"
    )


def _hparam_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
