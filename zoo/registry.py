"""Names to architectures: `register`, `create`, `list_models`, `model_info`."""

import dataclasses
import difflib
import fnmatch
import inspect

import keras

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


def _entry(name):
    if not isinstance(name, str):
        raise TypeError(f"Model `name` must be a string. Received: name={name!r}")
    _load_families()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, sorted(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown model name. Received: name={name!r}.{hint} "
            "See zoo.list_models() for every name."
        )
    return _REGISTRY[name]


def create(name, weights=None, **kwargs):
    """Builds the registered architecture `name`.

    Args:
        name: a registered name (see `list_models`).
        weights: None, the name of a published weights entry for this model
            (e.g. "fashion_mnist"), or a path to a `.weights.h5` file.
        **kwargs: arguments of the family's constructor, overriding the
            variant's defaults.

    Example:

    ```python
    model = zoo.create("mlp", input_shape=(28, 28, 1), num_classes=10)
    ```
    """
    entry = _entry(name)
    if weights is not None:
        from zoo import weights as weights_module

        return weights_module.create_with_weights(name, weights, **kwargs)
    _check_arguments(entry, kwargs)
    return entry.cls(**{**entry.defaults, **kwargs})


def _check_arguments(entry, kwargs):
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
    _load_families()
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def model_info(name):
    """Family, default arguments, parameter count at the default config, weights."""
    entry = _entry(name)
    params = inspect.signature(entry.cls.__init__).parameters
    defaults = {
        k: p.default
        for k, p in params.items()
        if p.default is not inspect.Parameter.empty and k not in ("self",)
    }
    defaults.update(entry.defaults)
    if name not in _PARAM_COUNTS:
        _PARAM_COUNTS[name] = create(name).count_params()
    from zoo import weights as weights_module

    return {
        "name": name,
        "family": entry.family,
        "class": f"{entry.cls.__module__}.{entry.cls.__name__}",
        "defaults": defaults,
        "params": _PARAM_COUNTS[name],
        "weights": [w.name for w in weights_module.list_weights(f"{name}.*")],
    }


def _load_families():
    import zoo.models  # noqa: F401  (registers every family on import; cached after)
