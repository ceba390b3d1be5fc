"""Names to architectures: `register`, `get`, `create`, `list_models`, `model_info`.

The bottom of the zoo: it knows model classes, not weights (`zoo.create(name,
weights=...)` in `zoo.api` puts the two together).
"""

import dataclasses
import difflib
import fnmatch
import inspect
import math

import keras

from zoo import compat

_REGISTRY = {}
_PARAM_COUNTS = {}


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    cls: type
    family: str
    defaults: dict


def register(*names, family=None, variants=None):
    """Class decorator: registers names for a ZooModel and makes it serializable.

    Args:
        *names: names that build the class with its own defaults.
        family: family name (default: the module's last part).
        variants: `{name: {argument: value}}`, one builder over a table of
            variants (e.g. ResNet depths).

    Raises:
        ValueError: a name is already registered.
    """

    def decorate(cls):
        cls = keras.saving.register_keras_serializable(package="zoo")(cls)
        fam = family or cls.__module__.rsplit(".", 1)[-1]
        table = {name: {} for name in names}
        table.update(variants or {})
        if not table:
            raise ValueError(f"register() needs a name or variants for {cls.__name__}.")
        for name, defaults in table.items():
            if name in _REGISTRY:
                raise ValueError(
                    f"Model name {name!r} is already registered "
                    f"(by {_REGISTRY[name].cls.__module__}.{_REGISTRY[name].cls.__name__})."
                )
            _REGISTRY[name] = Entry(name, cls, fam, dict(defaults))
        return cls

    return decorate


def get(name):
    """The registry `Entry` (class, family, variant defaults) of a model name.

    Raises:
        TypeError: `name` is not a string.
        ValueError: unknown name (close names are suggested).
    """
    if not isinstance(name, str):
        raise TypeError(f"Model `name` must be a string. Received: name={name!r}")
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, sorted(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown model name. Received: name={name!r}.{hint} "
            "See zoo.list_models() for every name."
        )
    return _REGISTRY[name]


def create(name, /, **kwargs):
    """Builds the registered architecture `name` (randomly initialised).

    `zoo.create(name, weights=...)` is the same with pretrained weights.

    Args:
        name: a registered name (see `list_models`).
        **kwargs: arguments of the family's constructor, overriding the
            variant's defaults. The model's `name` defaults to `name`.

    Example:

    ```python
    model = zoo.registry.create("mlp", input_shape=(28, 28, 1), num_classes=10)
    ```
    """
    entry = get(name)
    check_arguments(entry, kwargs)
    return entry.cls(**{"name": name, **entry.defaults, **kwargs})


def check_arguments(entry, kwargs):
    """Raises TypeError naming an argument that `entry`'s class does not take."""
    params = inspect.signature(entry.cls.__init__).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values() if p.name != "kwargs"):
        return
    allowed = {p for p in params if p not in ("self", "args", "kwargs")} | {
        "name", "gradient_clip_norm", "dtype", "trainable",
    }
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(
            f"{entry.name!r} takes no argument {unknown[0]!r}. "
            f"Its arguments: {sorted(allowed - {'dtype', 'trainable'})}. Received: {unknown}"
        )


def list_models(pattern="*"):
    """Sorted registered names matching an fnmatch `pattern` (e.g. "resnet*")."""
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def defaults(name):
    """The constructor defaults of `name`: the class's, updated by the variant's."""
    entry = get(name)
    params = inspect.signature(entry.cls.__init__).parameters
    values = {
        k: p.default
        for k, p in params.items()
        if p.default is not inspect.Parameter.empty and k not in ("self",)
    }
    values.update(entry.defaults)
    return values


def count_params(name, **kwargs):
    """Parameter count of `create(name, **kwargs)`, built without initialising its weights.

    The variables get their shapes but no values (`compat.build_shapes_only`):
    counting VGG-19's 143 M parameters allocates none of them.
    """
    key = (name, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    if key not in _PARAM_COUNTS:
        model = compat.build_shapes_only(lambda: create(name, **kwargs))
        _PARAM_COUNTS[key] = int(sum(math.prod(v.shape) for v in model.weights))
    return _PARAM_COUNTS[key]


def model_info(name):
    """Family, class, default arguments and parameter count (at the defaults) of `name`."""
    entry = get(name)
    return {
        "name": name,
        "family": entry.family,
        "class": f"{entry.cls.__module__}.{entry.cls.__name__}",
        "defaults": defaults(name),
        "params": count_params(name),
    }
