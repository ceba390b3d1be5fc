"""Names to architectures: `register`, `get`, `create`, `list_models`, `model_info`, `families`.

The bottom of the zoo: it knows model classes and the family packages they come
from, not weights (`zoo.create(name, weights=...)` in `zoo.api` puts the two
together). A family is one package, `zoo/models/<family>/` (docs/adding-a-family.md);
an engine that needs something of a family asks its `Family` here, which finds the
family's declarations by their module names (`<family>_convert`, `<family>_tuning`)
and its weights entries in its `weights/` folder.
"""

import dataclasses
import difflib
import fnmatch
import importlib
import importlib.util
import inspect
import math
import sys
from pathlib import Path
from typing import Callable, Optional

import keras

from zoo import compat
from zoo.errors import UserTypeError, UserValueError

_REGISTRY = {}
_FAMILIES = {}
_PARAM_COUNTS = {}


@dataclasses.dataclass(frozen=True)
class Family:
    """One family package and what it declares (docs/adding-a-family.md).

    Attributes:
        name: the family's name, its package's last part ("resnet").
        package: the package ("zoo.models.resnet").
        folder: the package's folder; its published weights are in `folder/weights`.
    """

    name: str
    package: str
    folder: Path

    @property
    def weights_folder(self):
        """The folder of the family's weights entries (`<model>.<tag>.json`) and files."""
        return self.folder / "weights"

    def declaration(self, concern):
        """The family's module `<package>.<name>_<concern>` (imported on first use), or None.

        `concern` is "convert" (conversion rules per source), "tuning" (the search
        space) or "variants" (the table of named variants and their test
        configuration). Engines import these lazily: `import zoo` imports neither
        keras-tuner nor torch.
        """
        module = f"{self.package}.{self.name}_{concern}"
        if module not in sys.modules and importlib.util.find_spec(module) is None:
            return None
        return importlib.import_module(module)

    def names(self):
        """The registered model names of this family, sorted."""
        return sorted(n for n, e in _REGISTRY.items() if e.family == self.name)


@dataclasses.dataclass(frozen=True)
class Entry:
    """A registered model name.

    Attributes:
        name: the registered name ("resnet50").
        cls: the model class the name builds.
        family: the family's name.
        defaults: the variant's constructor arguments (the class's defaults fill the rest).
        builder: the named entry point (`zoo.models.resnet.resnet50`).
        weights: tags of the weights published for this name ("imagenet", ...).
    """

    name: str
    cls: type
    family: str
    defaults: dict
    builder: Optional[Callable] = None
    weights: tuple = ()


def _family_of(cls, family=None):
    """The `Family` of a model class: its package (`zoo.models.resnet`), or its module."""
    module = sys.modules.get(cls.__module__)
    path = Path(getattr(module, "__file__", "") or ".").resolve()
    package = cls.__module__.rsplit(".", 1)[0] if "." in cls.__module__ else cls.__module__
    name = family or package.rsplit(".", 1)[-1]
    known = _FAMILIES.get(name)
    if known is not None:
        return known
    _FAMILIES[name] = Family(name=name, package=package, folder=path.parent)
    return _FAMILIES[name]


def serializable(cls):
    """Makes a model class serializable by keras as `zoo>ClassName` (once)."""
    if keras.saving.get_registered_object(f"zoo>{cls.__name__}") is not cls:
        keras.saving.register_keras_serializable(package="zoo")(cls)
    return cls


def register(model_class, variants=None, *, weights=(), family=None):
    """Decorator of a named entry point: registers its name and makes the class serializable.

    The decorated function's name is the model name; `variants[name]` are its
    constructor arguments (the class's defaults fill the rest). The entry point
    builds the model (one line: `return create("resnet50", **kwargs)`), so
    go-to-definition on `resnet50` lands on the variant, its table and its weights.

    Args:
        model_class: the `ZooModel` subclass the name builds.
        variants: `{name: {argument: value}}`, the family's one table of
            variants; None: the name builds the class with its own defaults.
        weights: the tags of the weights published for this name (each one an
            entry `<name>.<tag>.json` in the family's `weights/` folder; a test
            holds the two equal).
        family: the family's name (default: the class's package, as
            `zoo/models/<family>/`).

    Raises:
        ValueError: the name is already registered, or `variants` has no row for it.

    Example:

    ```python
    @register(ResNet, VARIANTS, weights=("imagenet", "a1_in1k"))
    def resnet50(**kwargs):
        \"\"\"ResNet-50 (torchvision's layout, 25,557,032 parameters).\"\"\"
        return create("resnet50", **kwargs)
    ```
    """

    def decorate(fn):
        name = fn.__name__
        if variants is not None and name not in variants:
            raise UserValueError(f"The table of variants of {model_class.__name__} has no row for "
                                 f"{name!r}. Received: variants={sorted(variants)}")
        if name in _REGISTRY:
            taken = _REGISTRY[name]
            raise ValueError(f"Model name {name!r} is already registered "
                             f"(by {taken.cls.__module__}.{taken.cls.__name__}).")
        serializable(model_class)
        fam = _family_of(model_class, family)
        defaults = dict(variants[name]) if variants is not None else {}
        _REGISTRY[name] = Entry(name, model_class, fam.name, defaults, fn, tuple(weights))
        return fn

    return decorate


def get(name):
    """The registry `Entry` (class, family, variant defaults, entry point) of a model name.

    Raises:
        TypeError: `name` is not a string.
        ValueError: unknown name (close names are suggested).
    """
    if not isinstance(name, str):
        raise UserTypeError(f"Model `name` must be a string. Received: name={name!r}")
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, sorted(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UserValueError(
            f"Unknown model name. Received: name={name!r}.{hint} "
            "See zoo.list_models() for every name."
        )
    return _REGISTRY[name]


def families():
    """{family name: `Family`} of every registered family."""
    return dict(sorted(_FAMILIES.items()))


def family(name):
    """The `Family` of a model name or a family name."""
    if name in _FAMILIES:
        return _FAMILIES[name]
    return _FAMILIES[get(name).family]


def family_of(model):
    """The `Family` of a model instance (by its class), or None for a class the zoo never
    registered (a user's `keras.Model`)."""
    classes = {entry.cls: entry.family for entry in _REGISTRY.values()}
    for cls in type(model).__mro__:
        if cls in classes:
            return _FAMILIES[classes[cls]]
    return None


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
        raise UserTypeError(
            f"{entry.name!r} takes no argument {unknown[0]!r}. "
            f"Its arguments: {sorted(allowed - {'dtype', 'trainable'})}. Received: {unknown}"
        )


def list_models(pattern="*", family=None):
    """Sorted registered names matching an fnmatch `pattern` (e.g. "resnet*").

    Args:
        pattern: fnmatch pattern on the names.
        family: only the names of this family.
    """
    return sorted(n for n, e in _REGISTRY.items()
                  if fnmatch.fnmatchcase(n, pattern) and family in (None, e.family))


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


def entry_point(name):
    """`module.function` of the named entry point of `name` (where go-to-definition lands)."""
    builder = get(name).builder
    return f"{builder.__module__}.{builder.__qualname__}" if builder else None


def model_info(name):
    """Family, class, entry point, default arguments and parameter count (at the defaults)."""
    entry = get(name)
    return {
        "name": name,
        "family": entry.family,
        "class": f"{entry.cls.__module__}.{entry.cls.__name__}",
        "entry_point": entry_point(name),
        "defaults": defaults(name),
        "params": count_params(name),
    }
