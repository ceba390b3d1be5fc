"""The backend-free half of `ZooModel`: compile defaults, players, the step's logic.

The backend modules (`tensorflow_trainer`, `jax_trainer`, `torch_trainer`) supply
only what differs between backends: how gradients are taken, how the stateless
JAX step carries state, and how a traced scalar stands in for a float
hyperparameter. Everything a family changes is expressed here, without backend
code: `compute_loss`, `default_loss`/`default_metrics`, or `players()`.

One concept in one file (over 500 lines): the backend-free training step
and the `fit`/`evaluate`/`predict` checks around it.
"""

import contextlib
import dataclasses
from typing import Any, Callable, Optional, Sequence

import keras
from keras import ops
from keras.optimizers.schedules import LearningRateSchedule

from zoo import compat
from zoo.errors import UserTypeError, UserValueError
from zoo.training import input_checks as checks
from zoo.training import quantization
from zoo.training.guard import NonFiniteGuard
from zoo.training.players import PlayerOptimizers
from zoo.training.schedules import MomentumSchedule, not_a_callback_message
from zoo.utils.checks import check_positive
from zoo.utils.optimizers import (
    inner_optimizer,
    leaf_optimizers,
    momentum_attribute,
    resolve_optimizer,
)


@dataclasses.dataclass
class Player:
    """One optimised party of a training step.

    Args:
        name: prefix of the player's logged loss (`f"{name}_loss"`).
        loss: `loss(data) -> loss` or `-> (loss, aux)`. Runs the forward pass in
            training mode; `aux` is passed back untouched (e.g. generated images).
            Return the mean over the local batch; the step scales it for
            `tf.distribute` so gradients are those of the global batch (under
            keras.distribution on JAX the batch in the step is the global one).
        variables: the trainable variables this player updates.
        optimizer: the keras optimizer that updates them.
        steps: updates per train step (e.g. 5 critic steps per generator step).
    """

    name: str
    loss: Callable
    variables: Sequence
    optimizer: Any
    steps: int = 1


class TracedFloat(float):
    """A float hyperparameter whose value, inside one traced step, is a tensor.

    Keras optimizers read hyperparameters such as `SGD.momentum` as Python
    floats, which a traced step (tf.function, jax.jit) bakes in as constants:
    assigning a new float later changes nothing. During the update we swap in
    this object: comparisons (`momentum != 0`, which decides whether momentum
    slots are used) see the configured value, while arithmetic and tensor
    conversion see the scheduled tensor. Backend modules add the conversion
    protocol (`__tf_tensor__`, `__jax_array__`).
    """

    def __new__(cls, nominal, tensor):
        self = super().__new__(cls, nominal)
        self.tensor = tensor
        return self

    def __add__(self, other):
        return ops.add(self.tensor, other)

    def __radd__(self, other):
        return ops.add(other, self.tensor)

    def __sub__(self, other):
        return ops.subtract(self.tensor, other)

    def __rsub__(self, other):
        return ops.subtract(other, self.tensor)

    def __mul__(self, other):
        return ops.multiply(self.tensor, other)

    def __rmul__(self, other):
        return ops.multiply(other, self.tensor)

    def __truediv__(self, other):
        return ops.divide(self.tensor, other)

    def __rtruediv__(self, other):
        return ops.divide(other, self.tensor)

    def __pow__(self, other):
        return ops.power(self.tensor, other)

    def __rpow__(self, other):
        return ops.power(other, self.tensor)

    def __neg__(self):
        return ops.negative(self.tensor)


class BaseZooModel(keras.Model):
    """`keras.Model` with the zoo's training step (backend-free part)."""

    #: set by families that take raw strings (text classifiers)
    accepts_strings = False
    #: the values inputs must lie in (`zoo.training.InputRange`), or None: set by
    #: families and by `zoo.create(..., weights=...)` from the entry's preprocessing
    input_range = None
    #: "first_batch": a tf.data dataset or generator is checked by its first batch, before
    #: any update; "every_batch": every batch too, inside the pipeline (it costs more than
    #: 2 % of a small model's step: docs/benchmarks.md)
    data_checks = "first_batch"
    #: the step reports non-finite weights after each update and `fit` stops there
    check_finite_weights = True

    def __init__(self, *args, gradient_clip_norm=None, input_range=None, **kwargs):
        super().__init__(*args, **kwargs)
        check_positive("gradient_clip_norm", gradient_clip_norm, allow_none=True)
        self.gradient_clip_norm = gradient_clip_norm
        self.momentum_schedule = None
        self.learning_rate_multipliers = None
        if input_range is not None:  # from a saved config: the input check survives reloads
            self.input_range = (input_range if isinstance(input_range, checks.InputRange)
                                else checks.InputRange(**input_range))

    # ------------------------------------------------------------------ compile
    def default_loss(self):
        """Loss used when `compile()` gets none. None: the family's `compute_loss`."""
        return None

    def default_metrics(self):
        """Metrics used when `compile()` gets none."""
        return []

    def default_monitor(self):
        """Log key that picks a run's best model (`scripts/train.py`), or None for none.

        Adversarial models return None: no logged loss of theirs tells a better
        generator (sample quality is measured after training, e.g. FID).
        """
        return None if self.players() else "val_loss"

    def compile(
        self,
        optimizer="adam",
        loss=None,
        metrics=None,
        *,
        gradient_clip_norm=None,
        momentum_schedule=None,
        **kwargs,
    ):
        """Configures the model for training; `loss`/`metrics` default to the family's.

        Args:
            optimizer: a keras optimizer, its name, or (adversarial families) a
                `PlayerOptimizers`.
            loss, metrics: as in `keras.Model.compile`; None takes
                `default_loss()` / `default_metrics()`.
            gradient_clip_norm: clip gradients to this global norm (overrides
                the model's own `gradient_clip_norm`). Applied by the optimizer,
                after mixed-precision unscaling.
            momentum_schedule: callable `step -> momentum` (keras.ops), driving
                SGD's `momentum` or Adam's `beta_1` inside the traced step.
            **kwargs: passed to `keras.Model.compile`.
        """
        optimizer = resolve_optimizer(optimizer)
        check_positive("gradient_clip_norm", gradient_clip_norm, allow_none=True)
        clip = gradient_clip_norm if gradient_clip_norm is not None else self.gradient_clip_norm
        if isinstance(optimizer, PlayerOptimizers):
            # keras would wrap the container; wrap each player's optimizer instead.
            if keras.config.dtype_policy().name == "mixed_float16":
                optimizer.wrap_for_loss_scaling()
            kwargs.setdefault("auto_scale_loss", False)
        if loss is None:
            loss = self.default_loss()
        if metrics is None:
            metrics = self.default_metrics()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        if isinstance(self.optimizer, PlayerOptimizers):
            self.optimizer.bind(self.player_variables())
        if clip is not None:
            for inner in leaf_optimizers(self.optimizer):
                if inner.clipnorm is None and inner.clipvalue is None:
                    inner.global_clipnorm = clip
        if momentum_schedule is not None:
            self.set_momentum_schedule(momentum_schedule)

    def compile_from_config(self, config):
        # keras skips compile_from_config for overridden compile(); ours takes
        # keras's arguments, so the saved compile config replays as is.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built or isinstance(self.optimizer, PlayerOptimizers):
            self.optimizer.build(self.trainable_variables)

    def set_momentum_schedule(self, schedule):
        """Drives the optimizer's momentum (`momentum` or `beta_1`) by `schedule(step)`.

        The value is computed inside the traced step from `optimizer.iterations`,
        so it changes every step on every backend and resumes with the optimizer.
        Pass None to go back to the optimizer's own constant.
        """
        if schedule is not None and not callable(schedule):
            raise UserTypeError(
                f"`momentum_schedule` must be callable(step) -> momentum. Received: {schedule!r}"
            )
        if schedule is not None:
            if self.optimizer is None:
                raise UserValueError("Call `compile()` before setting a momentum schedule.")
            for opt in leaf_optimizers(self.optimizer):
                attr = momentum_attribute(opt)
                if attr is None:
                    raise UserValueError(
                        "A momentum schedule needs an optimizer with momentum "
                        "(SGD, RMSprop: `momentum`; Adam family: `beta_1`). "
                        f"Received: optimizer={type(opt).__name__}"
                    )
                if attr == "momentum" and getattr(opt, attr) == 0:
                    raise UserValueError(
                        f"{type(opt).__name__} was built with momentum=0, so it "
                        "keeps no momentum slots and a schedule would be ignored. "
                        "Create it with a non-zero momentum, e.g. SGD(momentum=0.9). "
                        f"Received: momentum={getattr(opt, attr)!r}"
                    )
        changed = schedule is not self.momentum_schedule
        self.momentum_schedule = schedule
        if changed and getattr(self, "train_function", None) is not None:
            self.make_train_function(force=True)

    def set_learning_rate_multipliers(self, multipliers):
        """Per-variable factors on the learning rate: `{variable.path: factor}`.

        Each update of a variable moves it `factor` times as far as the optimizer
        would (its learning rate times `factor`: exact for optimizers whose step is
        proportional to the learning rate, as SGD's and Adam's are); 0 freezes it.
        ULMFiT's discriminative learning rates and gradual unfreezing
        (`callbacks.GradualUnfreezing`) are set this way. Variables not named keep
        factor 1; None removes every factor. The compiled step is rebuilt.
        """
        if multipliers is not None:
            if not isinstance(multipliers, dict):
                raise UserTypeError("`multipliers` must be a dict {variable.path: factor}. "
                                    f"Received: {type(multipliers).__name__}")
            known = {v.path for v in self.trainable_variables}
            for path, factor in multipliers.items():
                if path not in known:
                    raise UserValueError(f"No trainable variable of {self.name!r} has the path "
                                         f"{path!r}. Received: multipliers[{path!r}]")
                if isinstance(factor, bool) or not isinstance(factor, (int, float)) or (
                        factor < 0):
                    raise UserValueError(f"A learning-rate factor must be a number >= 0. "
                                         f"Received: multipliers[{path!r}]={factor!r}")
            multipliers = {p: float(f) for p, f in multipliers.items() if f != 1}
        changed = multipliers != self.learning_rate_multipliers
        self.learning_rate_multipliers = multipliers or None
        if changed and getattr(self, "train_function", None) is not None:
            self.make_train_function(force=True)

    def _apply_gradients_scaled(self, optimizer, grads, variables):
        """`_apply_gradients`, then each variable with a learning-rate factor moved back to
        `old + factor * (new - old)` (backend-free: inside the step, `v.value` and
        `v.assign` go through JAX's stateless scope as well)."""
        factors = self.learning_rate_multipliers or {}
        scaled = [(v, factors[v.path]) for v in variables if v.path in factors]
        old = [ops.copy(v.value) for v, _ in scaled]
        self._apply_gradients(optimizer, grads, variables)
        for (v, factor), before in zip(scaled, old):
            v.assign(before if factor == 0 else before + factor * (v.value - before))

    # ------------------------------------------------------------------ job hooks
    def adapt(self, dataset):
        """Fits data-dependent state (e.g. a text vocabulary) on the training split.

        Called by `scripts/train.py` before `compile`; no-op by default.
        """

    def evaluation_metrics(self, test_dataset, dataset=None):
        """What `scripts/evaluate.py` reports: by default `evaluate()` on the test split.

        Generative families override this (Fréchet distance, ELBO, reconstruction).
        """
        results = self.evaluate(test_dataset, return_dict=True, verbose=0)
        return {k: float(v) for k, v in results.items()}

    # ------------------------------------------------------------------ players
    def players(self) -> Optional[list]:
        """The optimised parties of a step; None for the plain supervised step.

        Adversarial families return e.g. `[Player("d", ...), Player("g", ...)]`
        with optimizers from a `PlayerOptimizers` passed to `compile`. Called
        while tracing, once per compiled step.
        """
        return None

    def player_variables(self):
        """{player name: variables}, so a `PlayerOptimizers` can build before training."""
        players = self.players()
        return {p.name: list(p.variables) for p in players} if players else {}

    # ------------------------------------------------------------------ the step
    def _zoo_train_step(self, data):
        players = self.players()
        if players is None:
            return self._supervised_train_step(data)
        logs, hyper = {}, {}
        for player in players:
            for _ in range(player.steps):
                loss, aux, player_hyper = self._update(
                    player.loss, player.variables, player.optimizer, data
                )
            logs[f"{player.name}_loss"] = loss
            if isinstance(aux, dict):
                logs.update({k: v for k, v in aux.items() if not k.startswith("_")})
            prefix = "" if player is players[0] else f"{player.name}_"
            hyper.update({prefix + k: v for k, v in player_hyper.items()})
        logs = self.compute_player_metrics(data, logs)
        logs.update(hyper)
        return logs

    def compute_player_metrics(self, data, logs):
        """Updates adversarial families' trackers from the step's logs; returns logs."""
        results = dict(logs)
        for metric in self.metrics:
            if metric.name in logs:
                metric.update_state(logs[metric.name])
            results[metric.name] = metric.result()
        return results

    def _supervised_train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)

        def loss_fn(_):
            y_pred = self(x, training=True)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
            return loss, y_pred

        # keras losses already divide by the replica count (global-batch mean)
        loss, y_pred, hyper = self._update(
            loss_fn, self.trainable_variables, self.optimizer, data, scaled_for_distribution=True
        )
        compat.loss_tracker(self).update_state(
            self._unscale_for_distribution(loss), sample_weight=_batch_size(x)
        )
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        logs = dict(logs)
        logs.update(hyper)
        return logs

    def _zoo_test_step(self, data):
        if self.players() is not None:
            return self.player_test_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
        )
        compat.loss_tracker(self).update_state(
            self._unscale_for_distribution(loss), sample_weight=_batch_size(x)
        )
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def player_test_step(self, data):
        """Evaluation for adversarial families: each player's loss, no update."""
        logs = {}
        for player in self.players():
            out = player.loss(data)
            loss, aux = out if isinstance(out, tuple) else (out, None)
            logs[f"{player.name}_loss"] = loss
            if isinstance(aux, dict):
                logs.update({k: v for k, v in aux.items() if not k.startswith("_")})
        return self.compute_player_metrics(data, logs)

    def _update(self, loss_fn, variables, optimizer, data, scaled_for_distribution=False):
        """One optimizer update of `variables` on `loss_fn(data)`.

        Returns (loss, aux, hyper) where `hyper` holds the `lr` and `momentum`
        the update used. With `check_finite_weights`, the returned (logged) loss also
        carries the check of the weights the update wrote: it is NaN when one of them is
        not finite, and exactly the loss otherwise.
        """
        variables = list(variables)

        def fn():
            out = loss_fn(data)
            loss, aux = out if isinstance(out, tuple) else (out, None)
            if not scaled_for_distribution:
                loss = self._scale_for_distribution(loss)
            return loss, aux

        loss, aux, grads = self._value_and_grad(fn, variables, optimizer)
        with self._scheduled_hyperparameters(optimizer) as hyper:
            self._apply_gradients_scaled(optimizer, grads, variables)
        hyper = dict(hyper)
        if not scaled_for_distribution:
            loss = self._unscale_for_distribution(loss)
        if self.check_finite_weights:
            # the weights after the update, not the gradients (a loss-scaling optimizer skips
            # non-finite gradients on purpose), carried by the logged loss, a value the step
            # reports anyway: no extra log entry, no extra host read (NonFiniteGuard)
            loss = _carry_finiteness(loss, variables)
        return loss, aux, hyper

    @contextlib.contextmanager
    def _scheduled_hyperparameters(self, optimizer):
        """Yields the `lr`/`momentum` logs of the coming update, with any
        momentum schedule swapped into the optimizer for its duration."""
        inner = inner_optimizer(optimizer)
        if isinstance(inner, PlayerOptimizers) or not isinstance(inner, keras.optimizers.Optimizer):
            yield {}
            return
        # read before apply(): the values this update uses
        hyper = {"lr": ops.cast(inner.learning_rate, "float32")}
        attr = momentum_attribute(inner)
        if attr is None:
            yield hyper
            return
        if self.momentum_schedule is None:
            hyper["momentum"] = ops.cast(getattr(inner, attr), "float32")
            yield hyper
            return
        nominal = getattr(inner, attr)
        value = self._scheduled_value(self.momentum_schedule, inner)
        hyper["momentum"] = value
        setattr(inner, attr, self._traced_float(nominal, value))
        try:
            yield hyper
        finally:
            setattr(inner, attr, nominal)

    # ------------------------------------------------------------------ backend hooks
    def _value_and_grad(self, fn, variables, optimizer):  # pragma: no cover - abstract
        """(loss, aux, grads) of `fn`; a variable `fn` does not depend on gets the
        gradient None (as TensorFlow's tape gives), so the optimizer leaves it alone."""
        raise NotImplementedError

    def _scheduled_value(self, schedule, optimizer):
        """`schedule(optimizer.iterations)` as float32, inside the traced step."""
        return ops.cast(schedule(optimizer.iterations), "float32")

    def _apply_gradients(self, optimizer, grads, variables):
        optimizer.apply(grads, variables)

    def _traced_float(self, nominal, tensor):  # pragma: no cover - abstract
        raise NotImplementedError

    def _scale_for_distribution(self, loss):
        return loss

    def _unscale_for_distribution(self, loss):
        return loss

    # ------------------------------------------------------------------ input checks
    def expected_input_shape(self):
        """Per-example input shape, or None where the family takes any."""
        shape = getattr(self, "_zoo_input_shape", None)
        return tuple(shape) if shape is not None else None

    def num_output_classes(self):
        """Number of classes labels must lie in, or None (no label check)."""
        return getattr(self, "_zoo_num_classes", None)

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        """keras `fit`, with the zoo's input checks and a stop at non-finite weights.

        Before any update: `batch_size`/`epochs` > 0, the inputs' shape, NaN/inf and
        value range (`input_range`), the labels' dtype and range (numpy arrays whole,
        datasets and generators by their first batch, then every batch as it comes).
        During training, the first step whose update leaves a weight NaN or inf
        raises `zoo.training.NonFiniteError` naming it.
        """
        kwargs.update(_positional("fit", args))
        for callback in kwargs.get("callbacks") or ():
            if isinstance(callback, (LearningRateSchedule, MomentumSchedule)):
                raise UserTypeError(not_a_callback_message(callback))
        checks.check_loop_arguments(kwargs)
        checks.check_data_ends(x, kwargs.get("steps_per_epoch"))
        checks.check_data_ends(validation_data, kwargs.get("validation_steps"),
                               "validation_data", "validation_steps")
        x = checks.prepare_data(self, x, y, argument="x")
        if validation_data is not None:
            validation_data = checks.prepare_validation_data(self, validation_data)
        if self.check_finite_weights:
            kwargs["callbacks"] = _with_guard(self, kwargs.get("callbacks"))
        with _input_check_errors():
            return super().fit(x, y, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        kwargs.update(_positional("evaluate", args))
        if not compat.evaluating_for_fit(kwargs):  # fit checked its validation data
            checks.check_loop_arguments(kwargs)
            checks.check_data_ends(x, kwargs.get("steps"), steps_name="steps")
            x = checks.prepare_data(self, x, y, argument="x")
        with _input_check_errors():
            return super().evaluate(x, y, **kwargs)

    def predict(self, x, *args, **kwargs):
        kwargs.update(_positional("predict", args))
        checks.check_loop_arguments(kwargs)
        checks.check_data_ends(x, kwargs.get("steps"), steps_name="steps")
        x = checks.prepare_data(self, x, argument="x", labels=False)
        with _input_check_errors():
            return super().predict(x, **kwargs)

    # ------------------------------------------------------------------ quantization
    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """keras's `Model.quantize` on the quantizable layers, recorded in the config.

        The zoo quantizes the Dense, EinsumDense and Embedding layers
        (`zoo.quantize`) and records the mode, so a `.keras` file reloads as
        the same quantized model (keras rebuilds a subclassed model from its
        config; the int8 variables need int8 layers). The reload applies the
        mode's default `config`; other `filters` than the zoo's are refused,
        since they could not be rebuilt.
        """
        if filters not in (None, quantization.is_quantizable):
            raise UserValueError(
                "A zoo model quantizes all its Dense, EinsumDense and Embedding layers, so "
                "its config can rebuild it: use zoo.quantize(model, mode). "
                f"Received: filters={filters!r}"
            )
        with quantization.quiet():
            super().quantize(mode, config=config, filters=quantization.is_quantizable, **kwargs)
        self._zoo_quantization = mode if config is None else config.mode

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        if self.gradient_clip_norm is not None:
            config["gradient_clip_norm"] = self.gradient_clip_norm
        if getattr(self, "_zoo_quantization", None):
            config["quantization"] = self._zoo_quantization
        if self.input_range is not None:
            config["input_range"] = dataclasses.asdict(self.input_range)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        mode = config.pop("quantization", None)
        model = cls(**config)
        if mode:  # int8 layers first, so the saved int8 variables fit them
            model.quantize(mode)
        return model


def _batch_size(x):
    first = next(i for i in keras.tree.flatten(x) if i is not None)
    return ops.shape(first)[0]


def _carry_finiteness(loss, variables):
    """`loss + 0 * sum(variables)`: exactly `loss` while every variable is finite, NaN as
    soon as one is not (NaN and inf carry through a sum, and 0 * inf is NaN). One
    reduction per variable and three ops, inside the traced step (short of a sum beyond
    float32's 3e38, a run already diverged). Not differentiated: the update is done."""
    if not variables:
        return loss
    total = ops.sum(ops.stack([ops.sum(ops.cast(v.value, "float32")) for v in variables]))
    return loss + ops.cast(total * 0.0, ops.dtype(loss))


# keras's positional order after (x, y): a caller may pass these without names
_POSITIONAL = {
    "fit": ("batch_size", "epochs", "verbose", "callbacks", "validation_split"),
    "evaluate": ("batch_size", "verbose", "sample_weight", "steps", "callbacks"),
    "predict": ("batch_size", "verbose", "steps", "callbacks"),
}


def _positional(method, args):
    names = _POSITIONAL[method]
    if len(args) > len(names):
        raise UserTypeError(
            f"`{method}` takes at most {len(names)} positional arguments after the data "
            f"({', '.join(names)}); pass the others by name. Received: {len(args)}"
        )
    return dict(zip(names, args))


def _with_guard(model, callbacks):
    """The callbacks with a `NonFiniteGuard` first (a new list: the caller's is kept)."""
    guard = NonFiniteGuard()
    if isinstance(callbacks, keras.callbacks.CallbackList):
        guard.set_model(model)
        guard.set_params(callbacks.params)
        callbacks.callbacks.insert(0, guard)
        return callbacks
    return [guard, *(callbacks or [])]


@contextlib.contextmanager
def _input_check_errors():
    """A pipeline check's failure as the ValueError it means, not TensorFlow's wrapper."""
    try:
        yield
    except Exception as err:
        message = checks.input_check_message(err)
        if message is None:
            raise
        raise UserValueError(message) from None
