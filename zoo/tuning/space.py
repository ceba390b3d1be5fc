"""The pieces a family's search space is declared with, and how users reshape them.

A space is a tuple of hyperparameters (`Int`, `Float`, `Choice`), each either
a constructor argument of the family (`dropout`, `width_multiplier`), a
training knob (`learning_rate`, `optimizer`, `schedule`, `<player>_learning_rate`),
or an input of a `Derived` argument (`units` and `num_layers` make an MLP's
`hidden_units`). Nothing here imports keras-tuner: `declare(hp)` is where the
keras-tuner `HyperParameters` object is called.

A family declares its space in `zoo/models/<family>/<family>_tuning.py` as
`search_space(arguments) -> SearchSpace`, where `arguments` are the model's
resolved constructor arguments (its defaults, with what the user fixed): a space
reads them for the defaults of its hyperparameters, so the default configuration
of every space is the family's own default. The building blocks at the end of
this module (`learning_rate`, `dropout`, `hidden_units`, `classifier_space`,
`generative_widths`) are what several families share.
"""

import ast
import dataclasses
import numbers
from typing import Callable, Optional

from zoo.errors import UserTypeError, UserValueError

#: hyperparameters that configure compile/fit rather than the constructor (`lora_rank`:
#: LoRA on the model's attention projections, `zoo.lora.enable`, before compiling)
TRAINING_KNOBS = ("learning_rate", "optimizer", "schedule", "lora_rank")
SCHEDULES = ("constant", "cosine")
SAMPLINGS = ("linear", "log", "reverse_log")


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class Int:
    """An integer range, bounds included (`sampling="log"`: `step` multiplies)."""

    name: str
    min_value: int
    max_value: int
    step: Optional[int] = None
    sampling: str = "linear"
    default: Optional[int] = None

    def declare(self, hp):
        return hp.Int(self.name, self.min_value, self.max_value, step=self.step,
                      sampling=self.sampling, default=self.default)

    def describe(self):
        step = f", step {self.step}" if self.step else ""
        return f"int in [{self.min_value}, {self.max_value}] ({self.sampling}{step})"


@dataclasses.dataclass(frozen=True)
class Float:
    """A float range, bounds included."""

    name: str
    min_value: float
    max_value: float
    step: Optional[float] = None
    sampling: str = "linear"
    default: Optional[float] = None

    def declare(self, hp):
        return hp.Float(self.name, self.min_value, self.max_value, step=self.step,
                        sampling=self.sampling, default=self.default)

    def describe(self):
        step = f", step {self.step}" if self.step else ""
        return f"float in [{self.min_value:g}, {self.max_value:g}] ({self.sampling}{step})"


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of `values`. Tuples (e.g. `hidden_units` options) are carried as their repr."""

    name: str
    values: tuple
    default: object = None

    @property
    def encoded(self):
        return any(isinstance(v, (tuple, list)) for v in self.values)

    def declare(self, hp):
        if not self.encoded:
            return hp.Choice(self.name, list(self.values), default=self.default)
        # keras-tuner choices are scalars: a tuple option travels as its repr.
        value = hp.Choice(self.name, [repr(tuple(v)) for v in self.values],
                          default=None if self.default is None else repr(tuple(self.default)))
        return ast.literal_eval(value)

    def describe(self):
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclasses.dataclass(frozen=True)
class Derived:
    """A constructor argument computed from several hyperparameters.

    Args:
        argument: the constructor argument it sets (e.g. `hidden_units`).
        names: the hyperparameters it reads.
        compose: `compose(values) -> argument value`, `values` keyed by `names`.
        decompose: `decompose(default argument value) -> {name: default}`, so
            the default configuration of the space is the family's default.
    """

    argument: str
    names: tuple
    compose: Callable
    decompose: Callable


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """A family's declared search space.

    Args:
        hyperparameters: `Int`/`Float`/`Choice` specs, searched in this order.
        derived: `Derived` arguments built from some of them.
        objective: the default objective (a metric name `fit` logs).
        players: for adversarial families, the player names whose
            `<player>_learning_rate` hyperparameters set their optimizers.
        evaluated: objectives `fit` does not log, measured after each trial by
            `model.evaluation_metrics(validation_data, **kwargs)`: `{metric:
            {kwarg: required value, or None where any given value will do}}`,
            e.g. `{"fid_fmnist": {"dataset": "fashion_mnist"}}`. The kwargs
            come from the hypermodel's `evaluation` argument.
        notes: one line shown by `describe()` (why a knob is left out, ...).
    """

    hyperparameters: tuple
    derived: tuple = ()
    objective: object = "val_accuracy"
    players: tuple = ()
    evaluated: dict = dataclasses.field(default_factory=dict)
    notes: str = ""

    @property
    def names(self):
        return tuple(h.name for h in self.hyperparameters)

    def get(self, name):
        for h in self.hyperparameters:
            if h.name == name:
                return h
        return None

    def derived_for(self, name):
        return [d for d in self.derived if name in d.names]


def with_default(spec, default):
    """`spec` whose default is `default` where it lies in the space, else unchanged."""
    if default is None:
        return spec
    if isinstance(spec, Choice):
        values = [tuple(v) if isinstance(v, list) else v for v in spec.values]
        default = tuple(default) if isinstance(default, list) else default
        return dataclasses.replace(spec, default=default) if default in values else spec
    if _is_number(default) and spec.min_value <= default <= spec.max_value:
        if isinstance(spec, Int) and not _is_int(default):
            return spec
        return dataclasses.replace(spec, default=default)
    return spec


def check_spec(spec, argument="overrides"):
    """Raises ValueError for an empty or inverted range, a bad sampling or empty choices."""
    name = spec.name
    if isinstance(spec, Choice):
        if len(spec.values) == 0:
            raise UserValueError(
                f"`{argument}` for {name!r}: the choices are empty. Received: {name}=[]"
            )
        if len(set(map(repr, spec.values))) != len(spec.values):
            raise UserValueError(
                f"`{argument}` for {name!r}: the choices repeat a value. "
                f"Received: {name}={list(spec.values)!r}"
            )
        for v in spec.values:
            if not isinstance(v, (str, bool, numbers.Real, tuple, list)):
                raise UserTypeError(
                    f"`{argument}` for {name!r}: choices must be numbers, strings, "
                    f"booleans or tuples. Received: {v!r}"
                )
        return spec
    received = f"Received: {name}=({spec.min_value!r}, {spec.max_value!r})"
    if not (_is_number(spec.min_value) and _is_number(spec.max_value)):
        raise UserTypeError(f"`{argument}` for {name!r}: the bounds must be numbers. {received}")
    if isinstance(spec, Int) and not (_is_int(spec.min_value) and _is_int(spec.max_value)):
        raise UserTypeError(f"`{argument}` for {name!r}: {name} is an integer; the bounds "
                            f"must be ints. {received}")
    if spec.min_value > spec.max_value:
        raise UserValueError(f"`{argument}` for {name!r}: the range is inverted "
                             f"(min > max). {received}")
    if spec.min_value == spec.max_value:
        raise UserValueError(
            f"`{argument}` for {name!r}: the range is empty (min == max); to use one value, "
            f"fix it instead: zoo.hypermodel(..., {name}={spec.min_value!r}). {received}"
        )
    if spec.sampling not in SAMPLINGS:
        raise UserValueError(f"`{argument}` for {name!r}: `sampling` must be one of {SAMPLINGS}. "
                             f"Received: sampling={spec.sampling!r}")
    if spec.sampling != "linear" and spec.min_value <= 0:
        raise UserValueError(
            f"`{argument}` for {name!r}: log sampling needs bounds > 0. "
            f"{received}"
        )
    if spec.step is not None:
        if not _is_number(spec.step) or spec.step <= 0:
            raise UserValueError(f"`{argument}` for {name!r}: `step` must be > 0. "
                                 f"Received: step={spec.step!r}")
        if spec.sampling != "linear" and spec.step <= 1:
            raise UserValueError(f"`{argument}` for {name!r}: with log sampling `step` multiplies "
                                 f"and must be > 1. Received: step={spec.step!r}")
        if isinstance(spec, Int) and not _is_int(spec.step):
            raise UserTypeError(f"`{argument}` for {name!r}: `step` must be an int. "
                                f"Received: step={spec.step!r}")
    return spec


def spec_from_user(name, value, base=None, argument="overrides"):
    """A spec for `name` from a user's range: `(low, high)`, `(low, high, "log")`,
    a list of choices, or a dict of `Int`/`Float`/`Choice` fields.

    With `base` (the family's spec) a range keeps its kind, step and sampling
    unless given; without it, ints make an `Int` and other numbers a `Float`.
    """
    if isinstance(value, (Int, Float, Choice)):
        spec = dataclasses.replace(value, name=name)
    elif isinstance(value, list):
        spec = Choice(name, tuple(value))
    elif isinstance(value, dict):
        if base is None:
            raise UserTypeError(
                f"`{argument}` for {name!r}: a dict narrows an existing hyperparameter; give a "
                f"new one as (low, high), (low, high, 'log') or a list. Received: {value!r}"
            )
        fields = {f.name for f in dataclasses.fields(base)} - {"name"}
        unknown = sorted(set(value) - fields)
        if unknown:
            raise UserValueError(f"`{argument}` for {name!r}: unknown field(s) {unknown}; "
                                 f"{type(base).__name__} has {sorted(fields)}. Received: {value!r}")
        spec = dataclasses.replace(base, **value)
    elif isinstance(value, tuple) and len(value) in (2, 3) and all(map(_is_number, value[:2])) \
            and (len(value) == 2 or isinstance(value[2], str)):
        low, high = value[0], value[1]
        sampling = value[2] if len(value) == 3 else None
        if isinstance(base, (Int, Float)):
            kind = type(base)
            step = base.step if kind is Int or base.step is None else None
            sampling = sampling or base.sampling
            if kind is Int and base.sampling != sampling:
                step = None
        else:
            kind = Int if _is_int(low) and _is_int(high) else Float
            step, sampling = None, sampling or "linear"
        if kind is Int and step is not None and sampling == "linear" and (high - low) % step:
            step = None
        spec = kind(name, low, high, step=step, sampling=sampling)
    elif isinstance(value, tuple):
        raise UserValueError(
            f"`{argument}` for {name!r}: a tuple is a range (low, high) or (low, high, "
            f"'log'); give choices as a list. Received: {name}={value!r}"
        )
    else:
        raise UserTypeError(
            f"`{argument}` for {name!r} must be (low, high), (low, high, sampling), a list of "
            f"choices or a dict of fields. Received: {name}={value!r}"
        )
    if isinstance(base, Choice) and not isinstance(spec, Choice):
        raise UserTypeError(f"`{argument}` for {name!r}: {name} is a choice {base.describe()}; "
                            f"give a list of choices. Received: {name}={value!r}")
    spec = check_spec(spec, argument)
    if base is not None and spec.default is None:
        spec = with_default(spec, base.default)
    return spec


def halving(units, num_layers, minimum=8):
    """Widths that halve layer by layer: halving(256, 4) == (256, 128, 64, 32)."""
    return tuple(max(int(units) // 2**i, minimum) for i in range(int(num_layers)))


def doubling(base, num_stages):
    """Widths that double stage by stage: doubling(32, 2) == (32, 64)."""
    return tuple(int(base) * 2**i for i in range(int(num_stages)))


# ---------------------------------------------------------------- shared building blocks
def learning_rate(low, high, default=1e-3, name="learning_rate"):
    """The optimizer's learning rate, searched on a log scale."""
    return Float(name, low, high, sampling="log", default=default)


def dropout(arguments, high=0.5):
    """`[Float("dropout", ...)]` at the model's default rate, or `[]` for a model without one."""
    return [Float("dropout", 0.0, high, step=0.1, default=arguments["dropout"])] \
        if "dropout" in arguments else []


def hidden_units(units_range=(16, 1024), layers_range=(1, 4), searched_layers=True):
    """`units` (first width, log grid of powers of two) and `num_layers`; widths halve.

    Returns (hyperparameters, the `Derived` that makes `hidden_units` of them, or None).
    """

    def decompose(widths):
        widths = tuple(widths or ())
        return {"units": widths[0] if widths else None, "num_layers": len(widths)}

    hps = [Int("units", *units_range, step=2, sampling="log")]
    if searched_layers:
        hps.append(Int("num_layers", *layers_range))
        return hps, Derived("hidden_units", ("units", "num_layers"),
                            lambda v: halving(v["units"], v["num_layers"]), decompose)
    return hps, None


def scaled_depths(depths, multiplier):
    """`depths` (blocks per stage) times `multiplier`, rounded, at least one block each."""
    return tuple(max(1, int(round(d * multiplier))) for d in depths)


def depth_multiplier(arguments, low=0.5, high=1.5):
    """`depth_multiplier` over the model's `depths` (blocks per stage, scaled and rounded):
    ([Float], the `Derived` argument `depths`), or ([], None) for a model without depths."""
    if "depths" not in arguments:
        return [], None
    base = tuple(arguments["depths"])
    return [Float("depth_multiplier", low, high, step=0.25, default=1.0)], Derived(
        "depths", ("depth_multiplier",),
        lambda v: scaled_depths(base, v["depth_multiplier"]),
        lambda depths: {"depth_multiplier": 1.0})


def stochastic_depth(arguments, high=0.5):
    """`[Float("stochastic_depth_rate", ...)]` at the model's default, or `[]` without one."""
    if "stochastic_depth_rate" not in arguments:
        return []
    return [Float("stochastic_depth_rate", 0.0, high, step=0.05,
                  default=arguments["stochastic_depth_rate"])]


def classifier_space(arguments, depths=False):
    """The vision classifiers' space: `width_multiplier`, `dropout` where the model has
    them, `stochastic_depth_rate` where it has one, the learning rate, the optimizer and
    the schedule; `depths=True` adds a `depth_multiplier` over the model's `depths`."""
    hps, derived = [], []
    if "width_multiplier" in arguments:
        hps.append(Float("width_multiplier", 0.25, 1.5, step=0.25))
    if depths:
        depth_hps, depth_arg = depth_multiplier(arguments)
        hps += depth_hps
        derived += [depth_arg] if depth_arg is not None else []
    hps += dropout(arguments)
    hps += stochastic_depth(arguments)
    hps += [
        learning_rate(1e-4, 1e-1),
        Choice("optimizer", ("adam", "sgd"), default="adam"),
        Choice("schedule", ("constant", "cosine"), default="constant"),
    ]
    return SearchSpace(tuple(hps), derived=tuple(derived))


def generative_widths(arguments, units_range, filters_range):
    """Widths the chosen `variant` uses: conv `filters` (doubling from `base_filters`)
    or dense `hidden_units` (halving from `units`), at the default depth.

    Returns (hyperparameters, the `Derived` argument they make).
    """
    if arguments.get("variant", "conv") == "conv":
        stages = len(arguments["filters"])

        def decompose(filters):
            return {"base_filters": tuple(filters)[0] if filters else None}

        return [Int("base_filters", *filters_range, step=2, sampling="log")], Derived(
            "filters", ("base_filters",), lambda v: doubling(v["base_filters"], stages), decompose
        )
    layers = len(arguments["hidden_units"])

    def decompose_units(widths):
        return {"units": tuple(widths)[0] if widths else None}

    return [Int("units", *units_range, step=2, sampling="log")], Derived(
        "hidden_units", ("units",), lambda v: halving(v["units"], layers), decompose_units
    )


#: what the generative families' `evaluation_metrics` measure, and what each needs
FRECHET = {"fid_fmnist": {"dataset": "fashion_mnist"}, "frechet_distance": {"feature_model": None}}
RECONSTRUCTION = {"reconstruction_mse": {}, "reconstruction_bce": {}}
