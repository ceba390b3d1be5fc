"""`ZooHyperModel`: a keras-tuner `HyperModel` over one registered zoo model.

One concept in one file (over 500 lines): the hypermodel, how a trial's
hyperparameters become a model, its compile and its fit.
"""

import inspect
import math

import keras
import keras_tuner

from zoo import lora, registry
from zoo import weights as zoo_weights
from zoo.errors import UserTypeError, UserValueError
from zoo.training.base import BaseZooModel
from zoo.training.players import PlayerOptimizers
from zoo.evaluation import evaluate
from zoo.tuning import space as space_module
from zoo.tuning.space import SCHEDULES, TRAINING_KNOBS, Choice, with_default
from zoo.utils.data import is_dataset
from zoo.utils.optimizers import make_optimizer, resolve_optimizer

#: defaults of the training knobs where a user adds them with `extend`
_KNOB_DEFAULTS = {"optimizer": "adam", "schedule": "constant"}
#: arguments the dataset decides; they can be fixed but never searched
_DATA_ARGUMENTS = ("input_shape", "num_classes", "name", "dtype", "trainable")


def constructor_arguments(cls):
    """{argument: default or inspect.Parameter.empty} over a ZooModel class and the
    bases its `**kwargs` reach."""
    arguments = {}
    for klass in cls.__mro__:
        if not (isinstance(klass, type) and issubclass(klass, BaseZooModel)):
            break
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters
        for p in params.values():
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                arguments.setdefault(p.name, p.default)
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            break
    return arguments


def searchable_families():
    """Family names that declare a search space (`<family>_tuning.search_space`)."""
    return sorted(name for name, family in registry.families().items()
                  if family.declaration("tuning") is not None)


def search_space(name, **arguments):
    """The declared `SearchSpace` of model `name` (at its defaults, or `arguments`)."""
    entry = registry.get(name)
    declared = registry.family(name).declaration("tuning")
    if declared is None:
        raise UserValueError(
            f"Model {name!r} (family {entry.family!r}) has no search space yet. Families "
            f"with one: {searchable_families()}. Received: name={name!r}"
        )
    defaults = {k: v for k, v in constructor_arguments(entry.cls).items()
                if v is not inspect.Parameter.empty}
    return declared.search_space({**defaults, **entry.defaults, **arguments})


class ZooHyperModel(keras_tuner.HyperModel):
    """A keras-tuner `HyperModel` whose `build` creates and compiles a zoo model.

    The family's search space (`zoo/models/<family>/<family>_tuning.py`) is reshaped by three
    arguments, all checked here, before any trial runs:

    - `fixed` (or plain keyword arguments): a hyperparameter of the space, a
      training knob (`learning_rate`, `optimizer`, `schedule`) or any constructor
      argument (`input_shape`, `num_classes`, `activation`, ...) set to one value.
      Fixing an argument that hyperparameters make (an MLP's `hidden_units`)
      removes those hyperparameters.
    - `overrides`: a new range or choices for a hyperparameter of the space:
      `(low, high)`, `(low, high, "log")`, a list of choices, or a dict of fields
      (`{"step": 0.05}`).
    - `extend`: a hyperparameter over a constructor argument (or training knob)
      the space does not search, in the same forms.

    `fit` adapts data-dependent layers (text vocabularies) on the training data,
    applies the `schedule` hyperparameter, passes the search's callbacks, and,
    for objectives `fit` does not log (a VAE's `elbo`, a GAN's `fid_fmnist`),
    returns `model.evaluation_metrics(validation_data)` with the epoch logs.

    Args:
        name: a registered model name (see `zoo.list_models()`).
        fixed: dict of fixed values (merged with `**kwargs`).
        overrides: dict {hyperparameter: range or choices}.
        extend: dict {argument: range or choices}.
        evaluation: keyword arguments of `model.evaluation_metrics` for such
            objectives, e.g. `{"dataset": "fashion_mnist"}` (FID-FMNIST) or
            `{"feature_model": "runs/fid-mlp", "num_samples": 2000}`.
        weights: each trial's model starts from these weights (`zoo.create(name,
            weights=...)`); the `lora_rank` knob then fine-tunes them with LoRA.
        **kwargs: more fixed values.

    Example:

    ```python
    hm = zoo.hypermodel("mlp", input_shape=(28, 28, 1), num_classes=10, dropout=0.1,
                        overrides={"learning_rate": (1e-4, 1e-2)},
                        extend={"activation": ["relu", "gelu"]})
    model = hm.build(keras_tuner.HyperParameters())   # the default configuration
    ```
    """

    def __init__(self, name, fixed=None, overrides=None, extend=None, evaluation=None,
                 weights=None, **kwargs):
        super().__init__(name=f"zoo_{name}" if isinstance(name, str) else None, tunable=True)
        entry = registry.get(name)
        self.model_name = name
        self.weights = weights
        self.family = entry.family
        fixed = self._merge_fixed(fixed, kwargs)
        overrides = _as_dict("overrides", overrides)
        extend = _as_dict("extend", extend)

        params = constructor_arguments(entry.cls)
        self.constructor_argument_names = tuple(params)
        defaults = {k: v for k, v in params.items() if v is not inspect.Parameter.empty}
        defaults.update(entry.defaults)
        self._defaults = defaults
        arguments_given = {k: v for k, v in fixed.items() if k in params}
        declared = search_space(name, **arguments_given)
        self._players = tuple(declared.players)

        specs = {h.name: h for h in declared.hyperparameters}
        derived = list(declared.derived)
        self.fixed_values, self.fixed_arguments = {}, {}
        self._apply_fixed(fixed, overrides, specs, derived, params)
        self._apply_overrides(overrides, fixed, specs, params)
        self._apply_extend(extend, overrides, fixed, specs, derived, params)
        specs = {k: v for k, v in specs.items() if k not in self.fixed_values}
        specs = self._with_defaults(specs, derived)
        self.space = space_module.SearchSpace(
            tuple(specs.values()), derived=tuple(derived), objective=declared.objective,
            players=declared.players, evaluated=declared.evaluated, notes=declared.notes,
        )
        self._fixed, self._overrides, self._extend = fixed, overrides, extend
        self.evaluation = _as_dict("evaluation", evaluation)
        # the tuner's objective (check_objective sets it) and those measured after fit
        self._objectives = []
        self._evaluated_now = [n for n in _objective_names(declared.objective)
                               if n in self.space.evaluated]

    # ------------------------------------------------------------------ reshaping
    def _apply_fixed(self, fixed, overrides, specs, derived, params):
        for key, value in fixed.items():
            if key in specs or key in self._knobs():
                self.fixed_values[key] = self._check_fixed_value(key, value)
            elif key in params:
                self.fixed_arguments[key] = value
                for d in [d for d in derived if d.argument == key]:
                    derived.remove(d)
                    for hp_name in d.names:
                        if hp_name in fixed or hp_name in overrides:
                            raise UserValueError(
                                f"`{key}` is fixed, so the hyperparameter {hp_name!r} that "
                                "makes it is not searched; do not also set it. "
                                f"Received: {key}={value!r}, "
                                f"{hp_name}={fixed.get(hp_name, overrides.get(hp_name))!r}"
                            )
                        specs.pop(hp_name, None)
            else:
                raise UserValueError(self._unknown(key, value, "fixed", specs))

    def _apply_overrides(self, overrides, fixed, specs, params):
        for key, value in overrides.items():
            if key in self.fixed_values or key in self.fixed_arguments:
                raise UserValueError(
                    f"{key!r} is fixed, so it cannot also be overridden. "
                    f"Received: fixed {key}={fixed[key]!r}, overrides {key}={value!r}")
            if key not in specs:
                if key in params or key in self._knobs():
                    raise UserValueError(
                        f"{key!r} is not in the search space of {self.model_name!r}; add it "
                        f"with extend={{{key!r}: ...}}. Received: overrides={{{key!r}: {value!r}}}"
                    )
                raise UserValueError(self._unknown(key, value, "overrides", specs))
            specs[key] = self._check_knob_spec(
                space_module.spec_from_user(key, value, base=specs[key], argument="overrides"))

    def _apply_extend(self, extend, overrides, fixed, specs, derived, params):
        for key, value in extend.items():
            if key in specs:
                raise UserValueError(
                    f"{key!r} is already searched; narrow it with overrides={{{key!r}: ...}}. "
                    f"Received: extend={{{key!r}: {value!r}}}")
            if key in self.fixed_values or key in self.fixed_arguments:
                raise UserValueError(
                    f"{key!r} is fixed, so it cannot also be searched. "
                    f"Received: fixed {key}={fixed[key]!r}, extend {key}={value!r}")
            if key in _DATA_ARGUMENTS or (key not in params and key not in self._knobs()):
                raise UserValueError(self._unknown(key, value, "extend", specs))
            for d in [d for d in derived if d.argument == key]:
                derived.remove(d)
                for hp_name in d.names:
                    if hp_name in overrides or hp_name in self.fixed_values:
                        raise UserValueError(
                            f"`{key}` is searched directly (extend), so {hp_name!r} that made "
                            f"it is gone; do not also set it. Received: {hp_name}="
                            f"{overrides.get(hp_name, self.fixed_values.get(hp_name))!r}")
                    specs.pop(hp_name, None)
            spec = space_module.spec_from_user(key, value, argument="extend")
            if key in params:
                spec = with_default(spec, self._defaults.get(key))
            specs[key] = self._check_knob_spec(spec)

    # ------------------------------------------------------------------ checks
    def _merge_fixed(self, fixed, kwargs):
        fixed = _as_dict("fixed", fixed)
        both = sorted(set(fixed) & set(kwargs))
        if both:
            raise UserValueError(f"{both[0]!r} is given both in `fixed` and as a keyword argument. "
                                 f"Received: fixed={fixed!r}, {both[0]}={kwargs[both[0]]!r}")
        return {**fixed, **kwargs}

    def _knobs(self):
        if self._players:
            return tuple(f"{p}_learning_rate" for p in self._players)
        return TRAINING_KNOBS

    def _unknown(self, key, value, argument, specs):
        searchable = sorted(set(specs) | set(self._knobs()))
        arguments = sorted(set(self.constructor_argument_names) - set(_DATA_ARGUMENTS))
        where = "fixed value" if argument == "fixed" else f"`{argument}` entry"
        return (
            f"{self.model_name!r} (family {self.family!r}) has no hyperparameter or argument "
            f"{key!r} for this {where}. Its hyperparameters: {searchable}; its constructor "
            f"arguments: {arguments}. Received: {key}={value!r}"
        )

    def _check_fixed_value(self, key, value):
        if key.endswith("learning_rate"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise UserValueError(f"`{key}` must be a number > 0. Received: {key}={value!r}")
            return float(value)
        if key == "optimizer":
            resolve_optimizer(value if isinstance(value, str) else _not_a_name("optimizer", value))
        if key == "lora_rank" and (isinstance(value, bool) or not isinstance(value, int)
                                   or value < 1):
            raise UserValueError(f"`lora_rank` must be an int > 0. Received: lora_rank={value!r}")
        if key == "schedule" and value not in SCHEDULES:
            raise UserValueError(
                f"`schedule` must be one of {SCHEDULES}. "
                f"Received: schedule={value!r}"
            )
        if not isinstance(value, (int, float, str, bool)):
            raise UserTypeError(
                f"{key!r} is a hyperparameter, so its fixed value must be a number, string or "
                f"boolean. Received: {key}={value!r}"
            )
        return value

    def _check_knob_spec(self, spec):
        if spec.name == "optimizer":
            if not isinstance(spec, Choice):
                raise UserTypeError(
                    f"`optimizer` takes a list of optimizer names. "
                    f"Received: {spec}"
                )
            for v in spec.values:
                resolve_optimizer(v if isinstance(v, str) else _not_a_name("optimizer", v))
        if spec.name == "schedule":
            bad = [v for v in getattr(spec, "values", (None,)) if v not in SCHEDULES]
            if bad:
                raise UserValueError(f"`schedule` choices must be among {SCHEDULES}. "
                                     f"Received: schedule={list(getattr(spec, 'values', []))!r}")
        if spec.name.endswith("learning_rate") and not isinstance(spec, Choice) \
                and spec.min_value <= 0:
            raise UserValueError(f"`{spec.name}` must stay > 0. Received: {spec.name}="
                                 f"({spec.min_value!r}, {spec.max_value!r})")
        return spec

    def _with_defaults(self, specs, derived):
        """The family's defaults as the space's defaults (the first point of some oracles)."""
        out = dict(specs)
        for d in derived:
            for hp_name, default in d.decompose(self._resolved_default(d.argument)).items():
                if hp_name in out and out[hp_name].default is None:
                    out[hp_name] = with_default(out[hp_name], default)
        for hp_name, spec in out.items():
            if spec.default is None and hp_name in self.constructor_argument_names:
                out[hp_name] = with_default(spec, self._resolved_default(hp_name))
            elif spec.default is None and hp_name in _KNOB_DEFAULTS:
                out[hp_name] = with_default(spec, _KNOB_DEFAULTS[hp_name])
        return out

    def _resolved_default(self, argument):
        return self.fixed_arguments.get(argument, self._defaults.get(argument))

    # ------------------------------------------------------------------ building
    def declare_values(self, hp):
        """Declares the space on `hp` and returns {hyperparameter: value}."""
        values = {}
        for key, value in self.fixed_values.items():
            values[key] = hp.Fixed(key, value)
        for spec in self.space.hyperparameters:
            values[spec.name] = spec.declare(hp)
        return values

    def arguments(self, values):
        """Constructor arguments of the model for hyperparameter `values`."""
        kwargs = dict(self.fixed_arguments)
        derived_inputs = set()
        for d in self.space.derived:
            kwargs[d.argument] = d.compose({n: values[n] for n in d.names})
            derived_inputs.update(d.names)
        for key, value in values.items():
            if key in self.constructor_argument_names and key not in derived_inputs:
                kwargs[key] = value
        return kwargs

    def build(self, hp):
        values = self.declare_values(hp)
        if self.weights is None:
            model = registry.create(self.model_name, **self.arguments(values))
        else:
            model = zoo_weights.create_with_weights(self.model_name, self.weights,
                                                    **self.arguments(values))
        if values.get("lora_rank"):
            lora.enable(model, int(values["lora_rank"]))
        self.compile_model(model, values)
        if model.built:
            # slots exist before keras-tuner loads a checkpoint (Hyperband's next
            # round, the best model), so the optimizer state is restored too
            model.optimizer.build(model.trainable_variables)
        return model

    def compile_model(self, model, values):
        """Compiles `model` with the optimizer(s) the training knobs in `values` describe."""
        model.compile()  # the family's defaults (loss, metrics, optimizer(s))
        if self._players:
            optimizers = {}
            for player in model.player_variables():
                opt = model.optimizer[player]
                lr = values.get(f"{player}_learning_rate")
                optimizers[player] = _with_learning_rate(opt, lr) if lr is not None else opt
            model.compile(optimizer=PlayerOptimizers(optimizers))
            return
        if "optimizer" in values:
            optimizer = make_optimizer(values["optimizer"], values.get("learning_rate"))
        else:
            optimizer = _with_learning_rate(model.optimizer, values.get("learning_rate"))
        model.compile(optimizer=optimizer)

    def fit(self, hp, model, *args, **kwargs):
        x = args[0] if args else kwargs.get("x")
        if is_dataset(x):
            model.adapt(x)  # text vocabularies; a no-op for other families
            kwargs.setdefault("shuffle", False)  # a tf.data pipeline shuffles itself
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if hp.values.get("schedule") == "cosine":
            callbacks.append(_cosine_schedule(hp.values.get("learning_rate"), model,
                                              kwargs.get("epochs", 1)))
        validation = kwargs.get("validation_data")
        needs = self._evaluated_now + [n for n in self._objectives if n.startswith("val_")]
        if needs and validation is None:
            # Fatal: keras-tuner would otherwise count it as a failed trial and go on
            raise keras_tuner.errors.FatalValueError(
                f"The objective {needs} of {self.model_name!r} is measured on "
                "`validation_data`; pass it to search(). Received: validation_data=None"
            )
        history = model.fit(*args, callbacks=callbacks, **kwargs)
        if not self._evaluated_now:
            return history
        results = {k: float(v[-1]) for k, v in history.history.items()}
        if isinstance(validation, (tuple, list)):
            validation = validation[0]  # (x,) or (x, y) arrays: the images
        results.update(evaluate(model, validation, **self._evaluation_kwargs()))
        return results

    def _evaluation_kwargs(self):
        """`evaluation`, less what only objectives not chosen need (no FID unless asked)."""
        needed = {k for n in self._evaluated_now for k in self.space.evaluated[n]}
        optional = {k for reqs in self.space.evaluated.values() for k in reqs} - needed
        return {k: v for k, v in self.evaluation.items() if k not in optional}

    # ------------------------------------------------------------------ description
    def default_values(self):
        """{hyperparameter: value} of the default configuration."""
        return self.declare_values(keras_tuner.HyperParameters())

    def describe(self):
        """A printable summary of the space: fixed values, then each searched range."""
        lines = [f"search space of {self.model_name!r} (family {self.family!r}):"]
        for key, value in {**self.fixed_arguments, **self.fixed_values}.items():
            lines.append(f"  {key} = {value!r} (fixed)")
        for spec in self.space.hyperparameters:
            default = "" if spec.default is None else f", default {spec.default!r}"
            lines.append(f"  {spec.name}: {spec.describe()}{default}")
        for d in self.space.derived:
            lines.append(f"  {d.argument} <- {', '.join(d.names)}")
        if self.space.notes:
            lines.append(f"  note: {self.space.notes}")
        return "\n".join(lines)

    def fingerprint(self):
        """What identifies this search (stored beside the tuner, checked on resume)."""
        found = {
            "model": self.model_name,
            "fixed": {k: _stable_repr(v) for k, v in sorted(self._fixed.items())},
            "space": [repr(s) for s in self.space.hyperparameters],
            "evaluation": {k: _stable_repr(v)
                           for k, v in sorted(self._evaluation_kwargs().items())},
        }
        if self.weights is not None:  # searches without weights keep their fingerprint
            found["weights"] = _stable_repr(self.weights)
        return found

    # ------------------------------------------------------------------ objectives
    def logged_metrics(self, model=None):
        """Names `fit` logs for this model (with `val_` twins) plus `evaluated` ones.

        Read from the compiled default model without training it: the loss,
        the compiled metrics, the model's own trackers (`metrics`), the
        players' losses, and the `lr`/`momentum` the zoo step logs.
        """
        if model is None:
            model = self.build(keras_tuner.HyperParameters())
        names, hyper = set(), {"lr", "momentum"}
        players = model.players()
        if players:
            names.update(f"{p.name}_loss" for p in players)
            # the step logs the first player's lr/momentum bare, the others' prefixed
            hyper |= {f"{p.name}_{k}" for p in players[1:] for k in ("lr", "momentum")}
        else:
            names.add("loss")
            config = model.get_compile_config() or {}
            for key in ("metrics", "weighted_metrics"):
                for metric in keras.tree.flatten(config.get(key) or []):
                    names.add(_metric_name(metric))
        names.update(m.name for m in model.metrics if m.name != "compile_metrics")
        return names | {f"val_{n}" for n in names} | hyper | set(self.space.evaluated)

    def check_objective(self, objective, model=None):
        """Raises ValueError if `objective` names a metric this model does not log, or one
        measured after `fit` whose `evaluation` arguments are missing; then uses it."""
        logged = self.logged_metrics(model)
        names = _objective_names(objective)
        for name in names:
            if name not in logged:
                raise UserValueError(
                    f"The objective {name!r} is not logged by {self.model_name!r}. It logs: "
                    f"{sorted(logged)} (val_* with validation data; "
                    f"{sorted(self.space.evaluated)} measured after fit). "
                    f"Received: objective={name!r}"
                )
            for key, required in self.space.evaluated.get(name, {}).items():
                given = self.evaluation.get(key)
                if given is None or (required is not None and given != required):
                    need = f"{key}={required!r}" if required is not None else f"a `{key}`"
                    raise UserValueError(
                        f"The objective {name!r} of {self.model_name!r} needs {need} in "
                        f"`evaluation` (arguments of model.evaluation_metrics). "
                        f"Received: evaluation={self.evaluation!r}"
                    )
        self._objectives = names
        self._evaluated_now = [n for n in names if n in self.space.evaluated]


def _stable_repr(value):
    if value is None or isinstance(value, (str, int, float, bool, tuple, list, dict)):
        return repr(value)
    return f"<{type(value).__name__}>"  # no memory addresses: the same search resumes


def _objective_names(objective):
    if isinstance(objective, (list, tuple)):
        return [n for o in objective for n in _objective_names(o)]
    if isinstance(objective, keras_tuner.Objective):
        return [objective.name]
    if isinstance(objective, str):
        return [objective]
    raise UserTypeError("`objective` must be a metric name, a keras_tuner.Objective or a list of "
                        f"them. Received: objective={objective!r}")


def _metric_name(metric):
    if isinstance(metric, str):
        return metric
    if isinstance(metric, dict):
        return metric.get("config", {}).get("name") or metric.get("class_name", "")
    return getattr(metric, "name", None) or getattr(metric, "__name__", str(metric))


def _as_dict(argument, value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserTypeError(
            f"`{argument}` must be a dict {{name: value}}. Received: {argument}={value!r}")
    return dict(value)


def _not_a_name(argument, value):
    raise UserTypeError(f"`{argument}` hyperparameter values are optimizer names (e.g. 'adam', "
                        f"'sgd'). Received: {argument}={value!r}")


def _with_learning_rate(optimizer, learning_rate):
    if learning_rate is None:
        return optimizer
    config = optimizer.get_config()
    config["learning_rate"] = float(learning_rate)
    return type(optimizer).from_config(config)


def _cosine_schedule(base_lr, model, epochs):
    """`LearningRateScheduler` annealing the learning rate to 0 over `epochs` (per epoch)."""
    if base_lr is None:
        base_lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    epochs = max(int(epochs), 1)

    def schedule(epoch, lr):
        return float(base_lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs)))

    return keras.callbacks.LearningRateScheduler(schedule)
