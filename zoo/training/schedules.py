"""Learning-rate and momentum schedules evaluated inside the traced train step.

Each learning-rate schedule is a `keras.optimizers.schedules.LearningRateSchedule`:
installed as `optimizer.learning_rate`, keras evaluates it from
`optimizer.iterations` in every update, on every backend, and it resumes with
the optimizer (its position *is* `iterations`). Momentum schedules are
callables `step -> momentum` for `ZooModel.set_momentum_schedule`, which swaps
the value into SGD's `momentum` / Adam's `beta_1` for the update.

Schedules whose length depends on the run (`OneCycle` without `total_steps`,
`StepDecay(unit="epoch")` without `steps_per_epoch`) are completed by
`callbacks.Scheduler` at `on_train_begin`, from fit's epochs and steps.

They live here, beside the step that evaluates them, so that `import zoo`
registers them for `keras.saving.load_model` without importing the top-level
`callbacks` package (a name many user projects have too); `callbacks.schedules`
re-exports them.

One concept in one file (over 500 lines): the schedules the step evaluates.
"""

import math

import keras
from keras import ops

from zoo.errors import UserTypeError, UserValueError
from zoo.utils.checks import (
    check_fraction,
    check_non_negative,
    check_positive,
    check_positive_int,
)

_PACKAGE = "zoo"
_ANNEAL = ("cos", "linear")


def _anneal(kind, start, end, pct):
    # (cos(pi p) + 1) / 2 written as cos(pi p / 2)^2, and the linear form as a
    # convex combination: in float32 both stay accurate near `end`, where the
    # textbook forms cancel (lr ~ 1e-6 at the end of a one-cycle)
    if kind == "cos":
        return end + (start - end) * ops.square(ops.cos((math.pi / 2.0) * pct))
    return start * (1.0 - pct) + end * pct


def _one_cycle(step, total_steps, pct_start, start, peak, end, anneal):
    """PyTorch OneCycleLR's two phases: start -> peak at step pct_start*T - 1 -> end at T - 1."""
    step = ops.minimum(ops.cast(step, "float32"), float(total_steps - 1))
    end_up = float(pct_start * total_steps) - 1.0
    end_down = float(total_steps - 1)
    up = _anneal(anneal, start, peak, step / end_up)
    down = _anneal(anneal, peak, end, (step - end_up) / (end_down - end_up))
    return ops.where(step <= end_up, up, down)


def _check_anneal(anneal):
    if anneal not in _ANNEAL:
        raise UserValueError(f"`anneal` must be one of {_ANNEAL}. Received: anneal={anneal!r}")
    return anneal


def _check_cycle_length(total_steps, pct_start):
    if pct_start * total_steps <= 1:
        raise UserValueError(
            "A one-cycle schedule needs pct_start * total_steps > 1 (at least one step "
            f"of warm-up besides the first). Received: total_steps={total_steps}, "
            f"pct_start={pct_start}"
        )


def not_a_callback_message(schedule):
    """What to do instead of passing a schedule itself to `fit(callbacks=...)`."""
    name = type(schedule).__name__
    return (
        f"{name} is a schedule, not a callback: wrap it, "
        f"fit(callbacks=[callbacks.Scheduler({name}(...))]), or pass it to "
        f"callbacks.standard_callbacks(run_dir, schedule=...). Received: {schedule!r}"
    )


class _NotACallback:
    # keras's CallbackList reaches for callback hooks (set_model, on_*_end, ...) of
    # whatever `fit(callbacks=...)` got: say what to do instead of failing with
    # "object has no attribute 'set_model'".
    def __getattr__(self, name):
        if name.startswith(("on_", "set_model", "set_params")):
            raise UserTypeError(not_a_callback_message(self))
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class ZooSchedule(_NotACallback, keras.optimizers.schedules.LearningRateSchedule):
    """Base of the zoo's schedules: `resolve` completes a run-dependent length.

    Subclasses implement `__call__(step)` with `keras.ops` and `get_config`
    listing exactly their `__init__` arguments.
    """

    def resolve(self, epochs=None, steps_per_epoch=None):
        """A copy with every length fixed, taking fit's `epochs`/`steps_per_epoch`
        where the schedule was given none; raises ValueError when still unknown."""
        return self

    def momentum_schedule(self):
        """The momentum schedule that goes with this one, or None."""
        return None

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _with(self, **changes):
        return type(self).from_config({**self.get_config(), **changes})


@keras.saving.register_keras_serializable(package=_PACKAGE)
class OneCycle(ZooSchedule):
    """One-cycle policy (Smith & Topin 2019, PyTorch `OneCycleLR`): learning rate
    up then down while momentum goes down then up.

    The learning rate anneals from `max_lr / div_factor` to `max_lr` over the
    first `pct_start` of the steps, then to `max_lr / div_factor /
    final_div_factor`; the momentum (SGD `momentum`, Adam `beta_1`) from
    `momentum[1]` to `momentum[0]` and back. Step numbering follows PyTorch
    (phase ends at `pct_start * total_steps - 1` and `total_steps - 1`); after
    the cycle the final values hold.

    Args:
        max_lr: peak learning rate, > 0.
        total_steps: length of the cycle in optimizer steps. If None, taken
            from `epochs * steps_per_epoch`, or else from fit by `Scheduler`.
        epochs, steps_per_epoch: the other way to give the length.
        pct_start: fraction of the cycle spent increasing the rate, in (0, 1).
        div_factor: initial rate is `max_lr / div_factor`.
        final_div_factor: final rate is `initial / final_div_factor`.
        anneal: "cos" or "linear".
        momentum: `(base, max)` momentum range, or None to leave momentum alone.
        name: name of the schedule.

    Example:

    ```python
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.9))
    model.fit(train, epochs=10, callbacks=[callbacks.Scheduler(OneCycle(max_lr=0.4))])
    ```
    """

    def __init__(
        self,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        div_factor=25.0,
        final_div_factor=1e4,
        anneal="cos",
        momentum=(0.85, 0.95),
        name="OneCycle",
    ):
        super().__init__()
        self.max_lr = check_positive("max_lr", max_lr)
        self.total_steps = check_positive_int("total_steps", total_steps, allow_none=True)
        self.epochs = check_positive_int("epochs", epochs, allow_none=True)
        self.steps_per_epoch = check_positive_int(
            "steps_per_epoch", steps_per_epoch, allow_none=True
        )
        self.pct_start = check_fraction("pct_start", pct_start)
        self.div_factor = check_positive("div_factor", div_factor)
        self.final_div_factor = check_positive("final_div_factor", final_div_factor)
        self.anneal = _check_anneal(anneal)
        self.momentum = _check_momentum_pair(momentum)
        self.name = name
        if self.steps_total is not None:
            _check_cycle_length(self.steps_total, self.pct_start)

    @property
    def steps_total(self):
        """The cycle length in steps, or None while unknown."""
        if self.total_steps is not None:
            return self.total_steps
        if self.epochs is not None and self.steps_per_epoch is not None:
            return self.epochs * self.steps_per_epoch
        return None

    @property
    def initial_lr(self):
        return self.max_lr / self.div_factor

    @property
    def min_lr(self):
        return self.initial_lr / self.final_div_factor

    def resolve(self, epochs=None, steps_per_epoch=None):
        if self.steps_total is not None:
            return self
        epochs = self.epochs or epochs
        steps_per_epoch = self.steps_per_epoch or steps_per_epoch
        if not epochs or not steps_per_epoch:
            raise UserValueError(
                "OneCycle needs its length: give `total_steps` (or `epochs` and "
                "`steps_per_epoch`); fit could not supply it because the number of "
                "steps per epoch is unknown (a dataset of unknown cardinality). "
                f"Received: total_steps=None, epochs={epochs}, steps_per_epoch={steps_per_epoch}"
            )
        return self._with(total_steps=int(epochs) * int(steps_per_epoch))

    def _total(self):
        total = self.steps_total
        if total is None:
            raise UserValueError(
                "OneCycle has no length yet. Give `total_steps` (or `epochs` and "
                "`steps_per_epoch`), or install it with `callbacks.Scheduler`, which takes "
                "them from fit. Received: total_steps=None"
            )
        return total

    def __call__(self, step):
        return _one_cycle(
            step,
            self._total(),
            self.pct_start,
            self.initial_lr,
            self.max_lr,
            self.min_lr,
            self.anneal,
        )

    def momentum_schedule(self):
        if self.momentum is None:
            return None
        base, high = self.momentum
        return OneCycleMomentum(base, high, self._total(), self.pct_start, self.anneal)

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "epochs": self.epochs,
            "steps_per_epoch": self.steps_per_epoch,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "anneal": self.anneal,
            "momentum": list(self.momentum) if self.momentum is not None else None,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CosineWarmup(ZooSchedule):
    """Linear warm-up to `max_lr`, then cosine decay to `min_lr` at `total_steps`.

    `lr(s) = initial_lr + (max_lr - initial_lr) * s / w` for `s < w` warm-up
    steps, then `min_lr + (max_lr - min_lr) * (1 + cos(pi * (s - w) / (T - w))) / 2`,
    held at `min_lr` after `T`.

    Args:
        max_lr: peak learning rate, > 0.
        total_steps: schedule length T; None: from fit via `Scheduler`.
        warmup_pct: warm-up length as a fraction of T, in [0, 1).
        warmup_steps: warm-up length in steps (overrides `warmup_pct`).
        initial_lr: rate at step 0, >= 0.
        min_lr: final rate, >= 0.
        name: name of the schedule.

    Example:

    ```python
    Scheduler(CosineWarmup(max_lr=1e-3, warmup_pct=0.1))
    ```
    """

    def __init__(
        self,
        max_lr,
        total_steps=None,
        warmup_pct=0.05,
        warmup_steps=None,
        initial_lr=0.0,
        min_lr=0.0,
        name="CosineWarmup",
    ):
        super().__init__()
        self.max_lr = check_positive("max_lr", max_lr)
        self.total_steps = check_positive_int("total_steps", total_steps, allow_none=True)
        self.warmup_pct = check_fraction("warmup_pct", warmup_pct, low_open=False)
        if warmup_steps is not None and (
            isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0
        ):
            raise UserValueError(
                f"`warmup_steps` must be an int >= 0. Received: warmup_steps={warmup_steps!r}"
            )
        self.warmup_steps = warmup_steps
        self.initial_lr = check_non_negative("initial_lr", initial_lr)
        self.min_lr = check_non_negative("min_lr", min_lr)
        self.name = name
        if self.total_steps is not None:
            self._warmup()

    def _warmup(self):
        total = self._total()
        warmup = (
            self.warmup_steps
            if self.warmup_steps is not None
            else int(round(self.warmup_pct * total))
        )
        if warmup >= total:
            raise UserValueError(
                f"The warm-up must be shorter than the schedule. Received: warmup_steps={warmup}, "
                f"total_steps={total}"
            )
        return warmup

    def _total(self):
        if self.total_steps is None:
            raise UserValueError(
                "CosineWarmup has no length yet. Give `total_steps` or install it with "
                "`callbacks.Scheduler`, which takes it from fit. Received: total_steps=None"
            )
        return self.total_steps

    def resolve(self, epochs=None, steps_per_epoch=None):
        if self.total_steps is not None:
            return self
        if not epochs or not steps_per_epoch:
            raise UserValueError(
                "CosineWarmup needs `total_steps`; fit could not supply it (unknown steps per "
                f"epoch). Received: total_steps=None, epochs={epochs}, "
                f"steps_per_epoch={steps_per_epoch}"
            )
        return self._with(total_steps=int(epochs) * int(steps_per_epoch))

    def __call__(self, step):
        total, warmup = self._total(), self._warmup()
        step = ops.cast(step, "float32")
        rise = self.initial_lr + (self.max_lr - self.initial_lr) * step / float(max(warmup, 1))
        pct = ops.minimum((step - warmup) / float(total - warmup), 1.0)
        decay = _anneal("cos", self.max_lr, self.min_lr, pct)
        return ops.where(step < warmup, rise, decay)

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "warmup_pct": self.warmup_pct,
            "warmup_steps": self.warmup_steps,
            "initial_lr": self.initial_lr,
            "min_lr": self.min_lr,
            "name": self.name,
        }


class _DecayBase(ZooSchedule):
    _UNITS = ("epoch", "step")

    def _init_common(self, lr, gamma, unit, steps_per_epoch):
        self.lr = check_positive("lr", lr)
        self.gamma = check_positive("gamma", gamma)
        if unit not in self._UNITS:
            raise UserValueError(f"`unit` must be one of {self._UNITS}. Received: unit={unit!r}")
        self.unit = unit
        self.steps_per_epoch = check_positive_int(
            "steps_per_epoch", steps_per_epoch, allow_none=True
        )

    def _scale(self):
        if self.unit == "step":
            return 1
        if self.steps_per_epoch is None:
            raise UserValueError(
                f"{type(self).__name__} counts epochs and needs `steps_per_epoch`, or install it "
                "with `callbacks.Scheduler`, which takes it from fit. "
                "Received: steps_per_epoch=None"
            )
        return self.steps_per_epoch

    def resolve(self, epochs=None, steps_per_epoch=None):
        if self.unit == "step" or self.steps_per_epoch is not None:
            return self
        if not steps_per_epoch:
            raise UserValueError(
                f"{type(self).__name__}(unit='epoch') needs `steps_per_epoch`; fit could not "
                "supply it (unknown steps per epoch). Received: steps_per_epoch=None"
            )
        return self._with(steps_per_epoch=int(steps_per_epoch))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class StepDecay(_DecayBase):
    """`lr * gamma ** floor(t / step_size)`, t counted in epochs or steps (PyTorch `StepLR`).

    Args:
        lr: initial learning rate, > 0.
        step_size: decay period, an int > 0 (in `unit`s).
        gamma: multiplicative factor, > 0.
        unit: "epoch" or "step".
        steps_per_epoch: needed for `unit="epoch"`; None: from fit via `Scheduler`.
        name: name of the schedule.

    Example:

    ```python
    Scheduler(StepDecay(0.1, step_size=30, gamma=0.1))
    ```
    """

    def __init__(
        self, lr, step_size, gamma=0.1, unit="epoch", steps_per_epoch=None, name="StepDecay"
    ):
        super().__init__()
        self._init_common(lr, gamma, unit, steps_per_epoch)
        self.step_size = check_positive_int("step_size", step_size)
        self.name = name

    def __call__(self, step):
        period = float(self.step_size * self._scale())
        k = ops.floor(ops.cast(step, "float32") / period)
        return self.lr * ops.power(self.gamma, k)

    def get_config(self):
        return {
            "lr": self.lr,
            "step_size": self.step_size,
            "gamma": self.gamma,
            "unit": self.unit,
            "steps_per_epoch": self.steps_per_epoch,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MultiStep(_DecayBase):
    """`lr * gamma ** (number of milestones <= t)`, t in epochs or steps (PyTorch `MultiStepLR`).

    Args:
        lr: initial learning rate, > 0.
        milestones: strictly increasing ints > 0 (in `unit`s).
        gamma: multiplicative factor, > 0.
        unit: "epoch" or "step".
        steps_per_epoch: needed for `unit="epoch"`; None: from fit via `Scheduler`.
        name: name of the schedule.

    Example:

    ```python
    Scheduler(MultiStep(0.1, milestones=[30, 60, 80]))
    ```
    """

    def __init__(
        self, lr, milestones, gamma=0.1, unit="epoch", steps_per_epoch=None, name="MultiStep"
    ):
        super().__init__()
        self._init_common(lr, gamma, unit, steps_per_epoch)
        try:
            milestones = [int(m) for m in milestones]
        except (TypeError, ValueError):
            raise UserValueError(
                f"`milestones` must be a list of ints > 0. Received: milestones={milestones!r}"
            ) from None
        if (
            not milestones
            or milestones[0] <= 0
            or any(b <= a for a, b in zip(milestones, milestones[1:]))
        ):
            raise UserValueError(
                "`milestones` must be a non-empty, strictly increasing list of ints > 0. "
                f"Received: milestones={milestones!r}"
            )
        self.milestones = milestones
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        scale = self._scale()
        passed = sum(ops.cast(step >= float(m * scale), "float32") for m in self.milestones)
        return self.lr * ops.power(self.gamma, passed)

    def get_config(self):
        return {
            "lr": self.lr,
            "milestones": list(self.milestones),
            "gamma": self.gamma,
            "unit": self.unit,
            "steps_per_epoch": self.steps_per_epoch,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ExponentialSweep(ZooSchedule):
    """The LR range test's sweep: `min_lr * (max_lr / min_lr) ** ((t - start) / (num_steps - 1))`.

    Args:
        min_lr, max_lr: the range, 0 < min_lr < max_lr.
        num_steps: steps from `min_lr` to `max_lr` (>= 2); held after.
        start_step: optimizer iteration at which the sweep starts.
        name: name of the schedule.

    Example:

    ```python
    ExponentialSweep(1e-6, 1.0, num_steps=100)
    ```
    """

    def __init__(self, min_lr, max_lr, num_steps, start_step=0, name="ExponentialSweep"):
        super().__init__()
        self.min_lr = check_positive("min_lr", min_lr)
        self.max_lr = check_positive("max_lr", max_lr)
        if self.max_lr <= self.min_lr:
            raise UserValueError(
                f"`max_lr` must be > `min_lr`. Received: min_lr={min_lr!r}, max_lr={max_lr!r}"
            )
        self.num_steps = check_positive_int("num_steps", num_steps)
        if self.num_steps < 2:
            raise UserValueError(f"`num_steps` must be >= 2. Received: num_steps={num_steps!r}")
        self.start_step = int(start_step)
        self.name = name

    def __call__(self, step):
        t = ops.cast(step, "float32") - float(self.start_step)
        t = ops.clip(t, 0.0, float(self.num_steps - 1))
        ratio = math.log(self.max_lr / self.min_lr) / float(self.num_steps - 1)
        return self.min_lr * ops.exp(t * ratio)

    def get_config(self):
        return {
            "min_lr": self.min_lr,
            "max_lr": self.max_lr,
            "num_steps": self.num_steps,
            "start_step": self.start_step,
            "name": self.name,
        }


def _check_momentum_pair(momentum):
    if momentum is None:
        return None
    try:
        base, high = (float(m) for m in momentum)
    except (TypeError, ValueError):
        raise UserValueError(
            "`momentum` must be a pair (base, max) in [0, 1), or None. "
            f"Received: momentum={momentum!r}"
        ) from None
    if not (0 <= base < 1 and 0 <= high < 1):
        raise UserValueError(
            f"`momentum` values must lie in [0, 1). "
            f"Received: momentum={momentum!r}"
        )
    return (base, high)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MomentumSchedule(_NotACallback):
    """A momentum (SGD `momentum`, Adam `beta_1`) that follows `fn(step)`.

    `fn` takes the optimizer's iteration count (a tensor) and returns the
    momentum for that update, using `keras.ops`; it runs inside the traced
    step. Subclasses override `__call__` and `get_config` instead. Install
    with `callbacks.Scheduler(momentum=...)` or `ZooModel.set_momentum_schedule`.

    A `MomentumSchedule` around a plain function cannot be saved in a
    `.keras` file; around a serializable keras object (e.g. a
    `LearningRateSchedule`) it can.

    Args:
        fn: callable `step -> momentum`.

    Example:

    ```python
    MomentumSchedule(lambda step: 0.9 - 0.4 * keras.ops.exp(-keras.ops.cast(step, "float32") / 100))
    ```
    """

    def __init__(self, fn=None):
        if fn is not None and not callable(fn):
            raise UserTypeError(f"`fn` must be callable(step) -> momentum. Received: fn={fn!r}")
        if fn is None and type(self) is MomentumSchedule:
            raise UserTypeError("`fn` is required. Received: fn=None")
        self.fn = fn

    def __call__(self, step):
        return ops.cast(self.fn(step), "float32")

    def serializable(self):
        """Whether `get_config` can describe this schedule (so `.keras` files keep it)."""
        if type(self) is not MomentumSchedule:
            return True
        return hasattr(self.fn, "get_config")

    def get_config(self):
        if not self.serializable():
            raise NotImplementedError(
                "This MomentumSchedule wraps a plain callable and cannot be serialized. "
                f"Received: fn={self.fn!r}"
            )
        return {"fn": keras.saving.serialize_keras_object(self.fn)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), dict):
            config["fn"] = keras.saving.deserialize_keras_object(config["fn"])
        return cls(**config)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class OneCycleMomentum(MomentumSchedule):
    """The momentum half of `OneCycle`: `max` -> `base` -> `max` (PyTorch `cycle_momentum`).

    Args:
        base: lowest momentum, reached when the learning rate peaks.
        max: momentum at the start and end of the cycle.
        total_steps: cycle length in steps.
        pct_start: fraction of the cycle spent going down, in (0, 1).
        anneal: "cos" or "linear".

    Example:

    ```python
    OneCycle(0.1, total_steps=1000).momentum_schedule()  # OneCycleMomentum(0.85, 0.95, 1000, 0.3)
    ```
    """

    def __init__(self, base, max, total_steps, pct_start=0.3, anneal="cos"):  # noqa: A002
        super().__init__(None)
        self.base, self.max = _check_momentum_pair((base, max))
        self.total_steps = check_positive_int("total_steps", total_steps)
        self.pct_start = check_fraction("pct_start", pct_start)
        self.anneal = _check_anneal(anneal)
        _check_cycle_length(self.total_steps, self.pct_start)

    def __call__(self, step):
        return _one_cycle(
            step, self.total_steps, self.pct_start, self.max, self.base, self.max, self.anneal
        )

    def get_config(self):
        return {
            "base": self.base,
            "max": self.max,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "anneal": self.anneal,
        }


# Files saved before the schedules moved here name them "callbacks>OneCycle", ...
for _cls in (OneCycle, CosineWarmup, StepDecay, MultiStep, ExponentialSweep, MomentumSchedule,
             OneCycleMomentum):
    keras.saving.get_custom_objects().setdefault(f"callbacks>{_cls.__name__}", _cls)
