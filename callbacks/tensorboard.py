"""`TensorBoard`: keras's callback with step-wise lr/momentum, an image hook and HParams.

Summaries go through `tf.summary` (TensorFlow is a dependency of the zoo), so
the same files are written under the TensorFlow, JAX and PyTorch backends.
"""

import os

import keras
import numpy as np

from callbacks._common import DeepCopyable, iterations

_IMAGE_WRITERS = {}


def tensorboard_dir(run_dir):
    """The TensorBoard log directory of a run directory (`<run_dir>/tensorboard`)."""
    return os.path.join(str(run_dir), "tensorboard")


class TensorBoard(DeepCopyable, keras.callbacks.TensorBoard):
    """keras `TensorBoard` logging every N steps and every epoch, lr and momentum included.

    Every `update_freq` steps the step's logs are written as `batch_<name>`
    scalars in `<log_dir>/train`: with a `zoo.ZooModel` these include `lr`
    and `momentum`, the values that update used (for other models the
    optimizer's learning rate is added). Epoch logs are written as
    `epoch_<name>` (train and validation). On top of keras's callback:

    - steps continue from `optimizer.iterations`, so a resumed run extends
      its curves instead of restarting them at 0;
    - epoch summaries are always written (keras drops them when the last
      step of an epoch is not a multiple of `update_freq`);
    - `log_images(tag, images, step)` writes images into the same run;
    - `hparams` writes a TensorBoard HParams summary for the run (the tuner
      passes each trial's values and `trial_id`).

    Args:
        log_dir: run log directory (keras writes `train/` and `validation/` in it).
        update_freq: write step logs every this many steps (int > 0), "batch"
            (every step) or "epoch" (epoch logs only).
        histogram_freq: write weight histograms every this many epochs (0: never).
        write_graph: write the model graph (keras's option; off by default).
        hparams: dict `{name: value}` of the run's hyperparameters, or None.
        trial_id: name of the run in the HParams dashboard.
        **kwargs: other `keras.callbacks.TensorBoard` arguments.

    Example:

    ```python
    tb = TensorBoard("runs/r18/tensorboard", update_freq=10, hparams={"lr": 0.1})
    model.fit(train, epochs=5, callbacks=[tb])
    tb.log_images("samples", images, step=5)   # (N, H, W, C) in [0, 1] or uint8
    ```
    """

    _transient = {
        "_model": lambda: None,
        "_writers": dict,
        "_prev_summary_state": list,
        "_summary_module": lambda: None,
    }

    def __init__(
        self,
        log_dir,
        update_freq=1,
        histogram_freq=0,
        write_graph=False,
        hparams=None,
        trial_id=None,
        **kwargs,
    ):
        if update_freq not in ("batch", "epoch") and (
            isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1
        ):
            raise ValueError(
                "`update_freq` must be an int > 0, 'batch' or 'epoch'. "
                f"Received: update_freq={update_freq!r}"
            )
        if (
            isinstance(histogram_freq, bool)
            or not isinstance(histogram_freq, int)
            or histogram_freq < 0
        ):
            raise ValueError(
                f"`histogram_freq` must be an int >= 0. Received: histogram_freq={histogram_freq!r}"
            )
        if hparams is not None and not isinstance(hparams, dict):
            raise TypeError(
                f"`hparams` must be a dict {{name: value}}. Received: hparams={hparams!r}"
            )
        super().__init__(
            log_dir=str(log_dir),
            update_freq=update_freq,
            histogram_freq=histogram_freq,
            write_graph=write_graph,
            **kwargs,
        )
        self.hparams = dict(hparams) if hparams else None
        self.trial_id = trial_id

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._global_train_batch = iterations(self.model)
        if self.hparams:
            write_hparams(self.log_dir, self.hparams, trial_id=self.trial_id)

    def _quiet_step(self):
        """A step that writes nothing: keras's batch hooks would still swap writers
        and read every log value (a device sync), so they are skipped."""
        return (
            self.update_freq == "epoch" or self._global_train_batch % self.update_freq != 0
        ) and not (self._should_trace or self.write_steps_per_second)

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self._quiet_step():
            return
        self._global_train_batch -= 1  # keras's hook counts the step itself
        super().on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if self._quiet_step() and not self._should_write_train_graph:
            return
        if isinstance(logs, dict) and "lr" not in logs:
            lr = _current_lr(self.model)
            if lr is not None:
                logs = {**logs, "lr": lr}
        super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        with self.summary.record_if(True):
            super().on_epoch_end(epoch, logs)
        self._train_writer.flush()

    def on_test_end(self, logs=None):
        with self.summary.record_if(True):
            super().on_test_end(logs)

    def log_images(self, tag, images, step=None, max_outputs=16):
        """Writes `images` ((N, H, W, C), (H, W, C) or (H, W); floats in [0, 1] or
        uint8) as an image summary `tag` into this run's `train` directory.

        `step` defaults to the optimizer's iteration count. Generative
        families call this (or the module function `log_images`) for sample grids.
        """
        if step is None:
            step = iterations(self.model) if self.model is not None else 0
        writer = self._writers.get("train")
        if writer is None or getattr(writer, "_closed", False):
            # outside fit (keras closes its writers at the end of training)
            log_images(self.log_dir, tag, images, step, max_outputs)
            return
        _write_images(writer, tag, images, step, max_outputs)


def log_images(log_dir, tag, images, step, max_outputs=16):
    """Writes an image summary into `<log_dir>/train`, the run a `TensorBoard(log_dir)` writes.

    For callbacks that know only the run directory: pass
    `tensorboard_dir(run_dir)`. Images as in `TensorBoard.log_images`.

    Args:
        log_dir: the TensorBoard log directory of the run.
        tag: summary name, e.g. "samples".
        images: (N, H, W, C), (H, W, C) or (H, W); floats in [0, 1] or uint8.
        step: the step (e.g. the epoch) the images belong to.
        max_outputs: at most this many images of the batch are kept.

    Example:

    ```python
    log_images(tensorboard_dir(run_dir), "samples", grid, step=epoch)
    ```
    """
    import tensorflow as tf

    path = os.path.abspath(os.path.join(str(log_dir), "train"))
    writer = _IMAGE_WRITERS.get(path)
    if writer is None:
        writer = _IMAGE_WRITERS[path] = tf.summary.create_file_writer(path)
    _write_images(writer, tag, images, step, max_outputs)


def _write_images(writer, tag, images, step, max_outputs):
    import tensorflow as tf

    data = np.asarray(keras.ops.convert_to_numpy(images))
    if data.ndim == 2:
        data = data[None, :, :, None]
    elif data.ndim == 3:
        data = data[None]
    if data.ndim != 4 or data.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "`images` must be (N, H, W, C), (H, W, C) or (H, W) with C in (1, 3, 4). "
            f"Received: images with shape {np.shape(images)}"
        )
    if data.dtype != np.uint8:
        data = np.clip(data.astype(np.float32), 0.0, 1.0)
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
    raise ValueError(
        "An hparams domain must be a list, a (low, high) pair or an HParam. "
        f"Received: {name}={domain!r}"
    )


def _hparam_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _current_lr(model):
    """The learning rate of the step just taken, for models whose step does not log it."""
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        return None
    schedule = optimizer._learning_rate
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        # iterations already counts the step just taken
        value = schedule(max(iterations(model) - 1, 0))
    else:
        value = optimizer.learning_rate
    return float(np.asarray(keras.ops.convert_to_numpy(value)))
