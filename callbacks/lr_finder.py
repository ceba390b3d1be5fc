"""`LRFinder`: the learning-rate range test (Smith 2017; fastai's `lr_find`)."""

import math
import os
import warnings

import keras
import numpy as np

from callbacks._common import DeepCopyable, iterations, require_optimizer, retrace, to_float
from zoo import compat
from zoo.errors import UserValueError
from zoo.training.schedules import ExponentialSweep
from zoo.utils.checks import check_fraction, check_positive, check_positive_int
from zoo.utils.data import is_dataset
from zoo.utils.files import atomic_path
from zoo.utils.optimizers import leaf_optimizers


class LRFinder(DeepCopyable, keras.callbacks.Callback):
    """Sweeps the learning rate exponentially, records the loss, suggests a rate.

    Over `num_steps` updates the learning rate grows from `min_lr` to `max_lr`
    (an in-graph `ExponentialSweep`); the sweep stops early when the smoothed
    loss exceeds `diverge_factor` times its minimum or stops being finite.
    Afterwards the model's weights, the optimizer's state (slots, iterations)
    and its learning rate are exactly what they were. The suggestion is the
    rate at the steepest descent of the smoothed loss against log(lr).

    `find(model, data)` runs the test with one `train_on_batch` per step,
    reading each step's own loss. Used as a fit callback instead, the step
    loss is recovered from keras's running epoch mean, which assumes equal
    batch sizes (a smaller last batch of an epoch is skipped).

    Args:
        min_lr, max_lr: the sweep's range, 0 < min_lr < max_lr.
        num_steps: updates in the sweep, >= 2.
        smoothing: factor of the exponential moving average of the loss, in [0, 1).
        diverge_factor: stop once the smoothed loss exceeds this times its minimum (> 1).
        plot_path: where `on_train_end` saves the PNG plot (None: no plot).
        monitor: the log key of the loss (adversarial families: e.g. "g_loss").
        verbose: 1 prints the suggestion.

    Example:

    ```python
    finder = LRFinder(num_steps=100, plot_path="runs/x/lr_finder.png")
    lr = finder.find(model, train)
    ```
    """

    def __init__(
        self,
        min_lr=1e-7,
        max_lr=10.0,
        num_steps=100,
        smoothing=0.98,
        diverge_factor=4.0,
        plot_path=None,
        monitor="loss",
        verbose=0,
    ):
        super().__init__()
        # the sweep checks its own range and length; built here so bad values fail at once
        sweep = ExponentialSweep(min_lr, max_lr, num_steps)
        self.min_lr, self.max_lr, self.num_steps = sweep.min_lr, sweep.max_lr, sweep.num_steps
        self.smoothing = check_fraction("smoothing", smoothing, low_open=False)
        self.diverge_factor = check_positive("diverge_factor", diverge_factor)
        if self.diverge_factor <= 1:
            raise UserValueError(
                f"`diverge_factor` must be > 1. Received: diverge_factor={diverge_factor!r}"
            )
        self.plot_path = None if plot_path is None else str(plot_path)
        self.monitor = monitor
        self.verbose = verbose
        self._reset_results()
        self._saved = None
        self._step_logs = False

    def _reset_results(self):
        self.lrs, self.losses, self.smoothed = [], [], []
        self.suggestion = None
        self.diverged = False
        self._avg = 0.0
        self._best = math.inf
        self._prev_mean = None

    # ------------------------------------------------------------------ entry point
    def find(self, model, x, y=None, batch_size=32):
        """Runs the range test on `model` with batches of `x` (a tf.data dataset of
        batches, or arrays with `y` and `batch_size`); returns the suggested rate."""
        batches = _batches(x, y, batch_size)
        self.set_model(model)
        self._step_logs = True
        self.on_train_begin()
        try:
            step = 0
            while step < self.num_steps and not model.stop_training:
                empty = True
                for batch in batches():
                    empty = False
                    model.reset_metrics()  # the logged loss is this batch's own
                    xb, yb, wb = keras.utils.unpack_x_y_sample_weight(batch)
                    logs = model.train_on_batch(xb, yb, sample_weight=wb, return_dict=True)
                    self.on_train_batch_end(step, logs)
                    step += 1
                    if step >= self.num_steps or model.stop_training:
                        break
                if empty:
                    raise UserValueError("`x` yields no batches. Received: an empty dataset")
        finally:
            self._step_logs = False
            self.on_train_end()
        return self.suggestion

    # ------------------------------------------------------------------ callback
    def on_train_begin(self, logs=None):
        model = self.model
        optimizer = require_optimizer(model, "LRFinder")
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        self._reset_results()
        start = iterations(model)
        sweep = ExponentialSweep(self.min_lr, self.max_lr, self.num_steps, start_step=start)
        self._saved = {
            "weights": [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights],
            "optimizer": [np.array(keras.ops.convert_to_numpy(v)) for v in optimizer.variables],
            "lr": [(o, compat.learning_rate_object(o)) for o in leaf_optimizers(optimizer)],
        }
        for leaf in leaf_optimizers(optimizer):
            # not the `learning_rate` property: it would untrack a learning-rate
            # variable and change the optimizer's state layout for good
            compat.set_learning_rate_object(leaf, sweep)
        self._sweep = sweep
        model.stop_training = False
        retrace(model)

    def on_train_batch_end(self, batch, logs=None):
        if not logs or self.monitor not in logs:
            return
        done = iterations(self.model) - self._sweep.start_step  # updates made in the sweep
        loss = self._step_loss(batch, to_float(logs[self.monitor]))
        if loss is not None:
            lr = self._sweep(self._sweep.start_step + done - 1)  # the rate that update used
            self._record(float(np.asarray(keras.ops.convert_to_numpy(lr))), loss)
        if done >= self.num_steps:
            self.model.stop_training = True

    def _record(self, lr, loss):
        self.lrs.append(lr)
        self.losses.append(loss)
        if not math.isfinite(loss):
            self.diverged = True
            self.model.stop_training = True
            return
        self._avg = self.smoothing * self._avg + (1 - self.smoothing) * loss
        smoothed = self._avg / (1 - self.smoothing ** len(self.lrs))
        self.smoothed.append(smoothed)
        self._best = min(self._best, smoothed)
        if smoothed > self.diverge_factor * self._best:
            self.diverged = True
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self._saved is None:
            return
        self._restore()
        self.suggestion = self.suggest()
        if self.plot_path:
            self.plot(self.plot_path)
        if self.verbose:
            print(f"LRFinder: suggested learning rate {self.suggestion}")

    def _step_loss(self, batch, mean):
        if self._step_logs:
            return mean
        # keras logs the epoch's running mean: recover the batch's own loss
        steps = (self.params or {}).get("steps")
        prev, self._prev_mean = self._prev_mean, mean
        if batch == 0:
            return mean
        if steps and batch == steps - 1:
            return None  # possibly a smaller last batch: its weight is unknown
        return (batch + 1) * mean - batch * prev

    def _restore(self):
        model, saved = self.model, self._saved
        optimizer = model.optimizer
        for leaf, lr in saved["lr"]:
            compat.set_learning_rate_object(leaf, lr)
        for var, value in zip(model.weights, saved["weights"]):
            var.assign(value)
        opt_vars = optimizer.variables
        if len(opt_vars) != len(saved["optimizer"]):
            raise RuntimeError(
                "LRFinder could not restore the optimizer: its variables changed during the "
                f"sweep ({len(saved['optimizer'])} before, {len(opt_vars)} after)."
            )
        for var, value in zip(opt_vars, saved["optimizer"]):
            var.assign(value)
        model.stop_training = False
        model.reset_metrics()
        retrace(model)
        self._saved = None

    # ------------------------------------------------------------------ results
    def suggest(self):
        """The rate at the steepest descent of the smoothed loss (None if too few points)."""
        lrs, smoothed = np.asarray(self.lrs[: len(self.smoothed)]), np.asarray(self.smoothed)
        if len(smoothed) > 1 and smoothed[-1] > self.diverge_factor * smoothed.min():
            lrs, smoothed = lrs[:-1], smoothed[:-1]  # the diverging point
        skip = len(smoothed) // 10  # the average's first values are noisy
        lrs, smoothed = lrs[skip:], smoothed[skip:]
        if len(smoothed) < 3:
            warnings.warn(
                f"LRFinder recorded {len(smoothed)} usable points; too few for a suggestion. "
                "Use more `num_steps` or a smaller `max_lr`.",
                stacklevel=2,
            )
            return None
        slopes = np.gradient(smoothed, np.log10(lrs))
        return float(lrs[int(np.argmin(slopes))])

    def plot(self, path):
        """Saves loss (raw and smoothed) against learning rate, log scale, as a PNG."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        n = len(self.smoothed)
        ax.plot(self.lrs[:n], self.losses[:n], color="0.75", linewidth=1, label="loss")
        ax.plot(self.lrs[:n], self.smoothed, color="C0", label="smoothed loss")
        if self.suggestion is not None:
            ax.axvline(
                self.suggestion,
                color="C3",
                linestyle="--",
                label=f"suggested {self.suggestion:.2e}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        finite = [v for v in self.smoothed if math.isfinite(v)]
        if finite:
            ax.set_ylim(
                min(finite) - 0.05 * abs(min(finite)),
                min(max(finite), 4 * min(finite) + 1e-12) * 1.1,
            )
        ax.legend()
        ax.set_title("Learning-rate range test")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with atomic_path(path) as tmp:
            fig.savefig(tmp)
        return path


def _batches(x, y, batch_size):
    """A function returning an iterable of batches, restartable (sweeps longer than the data)."""
    if is_dataset(x):
        return lambda: x
    if y is None:
        raise UserValueError("`y` is required with array inputs. Received: y=None")
    n = len(x)
    if len(y) != n:
        raise UserValueError(f"`x` and `y` must have the same length. Received: {n} and {len(y)}")
    check_positive_int("batch_size", batch_size)
    return lambda: ((x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, n, batch_size))
