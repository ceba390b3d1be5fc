"""Pretrained weights: typed entries, always-verified hashes, a cache, offline loading.

```python
import zoo
model = zoo.create("mlp", weights="fashion_mnist")     # entry "mlp.fashion_mnist"
zoo.list_weights("mlp.*")
zoo.weights.get_weights("mlp.fashion_mnist").metrics    # measured by its evaluation command
zoo.weights.load_weights(model, "/path/to/file.weights.h5")
```

Entries are the JSON files of each family's `weights/` folder
(`zoo/models/<family>/weights/<model>.<tag>.json`); the weights shipped with the
package are in its `files/` and resolve through `package://` urls, so they load
with no network. Fetching and the cache are
described in `zoo.weights.store`.
"""

import difflib
import fnmatch
import inspect
import os
from pathlib import Path

from zoo import registry
from zoo.errors import UserTypeError, UserValueError
from zoo.training.input_checks import InputRange
from zoo.utils.files import jsonable
from zoo.weights import loading, store
from zoo.weights.artifacts import ArtifactSpec, find_artifact
from zoo.weights.ported import fetch_weights_file
from zoo.weights.spec import WeightsSpec
from zoo.weights.store import (
    WeightsIntegrityError,
    WeightsNotFoundError,
    cache_dir,
    sha256_of,
)

#: a verified local keras weights file for a WeightsSpec (a converted entry is converted first)
fetch = fetch_weights_file

_WEIGHTS = {}
_FAMILIES_READ = set()
#: constructor arguments any model's may differ from an entry's config in: they name things
#: or act in training only. A model class adds its own in `function_preserving_arguments`
#: (they act in training only, or change the head or the input size: a shape change is
#: caught when loading), and names those that change only its head in `head_arguments`.
FUNCTION_PRESERVING_ARGUMENTS = frozenset({"name", "trainable", "dtype", "gradient_clip_norm"})


def preserving_arguments(cls):
    """The arguments of `cls` that leave the function weights compute as it is."""
    return FUNCTION_PRESERVING_ARGUMENTS | set(getattr(cls, "function_preserving_arguments", ()))


def head_arguments(cls):
    """The arguments of `cls` that change only its head: the backbone's weights still fit."""
    return set(getattr(cls, "head_arguments", ()))


def _entries():
    # every registered family's entries, read once per family
    for name, family in registry.families().items():
        if name not in _FAMILIES_READ:
            _FAMILIES_READ.add(name)
            for path in sorted(family.weights_folder.glob("*.json")):
                register_weights(WeightsSpec.read(path))
    return _WEIGHTS


def register_weights(spec):
    """Adds a `WeightsSpec` to the published entries; a taken name raises ValueError."""
    if not isinstance(spec, WeightsSpec):
        raise UserTypeError(f"`spec` must be a WeightsSpec. Received: spec={spec!r}")
    if spec.name in _WEIGHTS:
        raise ValueError(f"Weights name {spec.name!r} is already registered.")
    _WEIGHTS[spec.name] = spec
    return spec


def list_weights(pattern="*"):
    """Published entries whose full name ("<model>.<tag>") matches an fnmatch `pattern`.

    Example:

    ```python
    [w.name for w in zoo.list_weights("mlp.*")]   # ['mlp.fashion_mnist']
    ```
    """
    return [w for n, w in sorted(_entries().items()) if fnmatch.fnmatchcase(n, pattern)]


def get_weights(name):
    """The `WeightsSpec` published under the full name `name` ("<model>.<tag>")."""
    if not isinstance(name, str):
        raise UserTypeError(f"Weights `name` must be a string. Received: name={name!r}")
    entries = _entries()
    if name not in entries:
        close = difflib.get_close_matches(name, sorted(entries), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UserValueError(
            f"No published weights named {name!r}.{hint} "
            f"Published: {sorted(entries)}. Received: name={name!r}"
        )
    return entries[name]


def fetch_artifact(name, format, quantization="int8"):
    """A verified local path to an artifact of the entry `name` (e.g. its int8 ONNX file).

    Fetched into the cache like a weights file (size and sha256 checked before
    the rename, hashed again on every call); see `zoo.weights.artifacts`.

    Example:

    ```python
    path = zoo.weights.fetch_artifact("resnet20.fashion_mnist", "onnx")
    ```
    """
    spec = name if isinstance(name, WeightsSpec) else get_weights(name)
    return store.fetch(find_artifact(spec, format, quantization))


def _is_path(weights):
    return isinstance(weights, os.PathLike) or (
        isinstance(weights, str)
        and (os.sep in weights or weights.endswith((".h5", ".keras")) or os.path.isfile(weights))
    )


def _spec_for(model_name, weights):
    """The entry `weights` names for `model_name`: a tag ("fashion_mnist") or full name."""
    entries = _entries()
    for candidate in (f"{model_name}.{weights}", weights):
        spec = entries.get(candidate)
        if spec is not None and spec.model == model_name:
            return spec
    published = [w.tag for w in list_weights(f"{model_name}.*")]
    close = difflib.get_close_matches(weights, published, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UserValueError(
        f"No weights {weights!r} are published for model {model_name!r}.{hint} "
        f"Published for it: {published or 'none'}; a local `.weights.h5` path also works. "
        f"Received: weights={weights!r}"
    )


def resolve(weights, model_name=None):
    """A verified local file for `weights`: a WeightsSpec, an entry name, or a path."""
    if isinstance(weights, WeightsSpec):
        return fetch_weights_file(weights)
    if _is_path(weights):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsNotFoundError(
                f"No weights file at {path} (looked for it as a local path). "
                f"Received: weights={str(weights)!r}"
            )
        return path
    if not isinstance(weights, str):
        raise UserTypeError(
            "`weights` must be an entry name, a WeightsSpec or a path. "
            f"Received: weights={weights!r}"
        )
    spec = _spec_for(model_name, weights) if model_name else get_weights(weights)
    return fetch_weights_file(spec)


def create_with_weights(name, weights, /, skip_mismatch=False, **kwargs):
    """Builds model `name` for `weights` and loads them (what `zoo.create(name, weights=)` does).

    A published entry builds the model from the entry's recorded config,
    updated by `kwargs`. Head arguments (`num_classes`, `include_top=False`,
    `features_only=True`, ...) keep every backbone weight and give the model a
    fresh head, without a warning. An argument that changes the function the
    weights compute (an activation, a width) is refused: only those in
    `preserving_arguments(class)` may differ from the entry. An entry with a
    `transform` (ImageNet weights) puts its preprocessing into the model
    (`preprocessing=None` leaves it out); the model checks its inputs against
    the entry's `input_range`. A local path builds the model from `kwargs`.

    No random values are drawn for the variables the file fills.

    Args:
        name: registered model name.
        weights: tag of an entry for this model ("fashion_mnist"), its full
            name ("mlp.fashion_mnist"), a WeightsSpec, or a path to a
            `.weights.h5` file.
        skip_mismatch: load what matches and skip (with a warning) layers
            whose shapes differ for other reasons; otherwise such a mismatch
            raises ValueError.
        **kwargs: model constructor arguments.
    """
    entry = registry.get(name)
    published = isinstance(weights, str) and (
        f"{name}.{weights}" in _entries() or weights in _entries()
    )
    if isinstance(weights, WeightsSpec) or published or not _is_path(weights):
        if not isinstance(weights, (str, WeightsSpec)):
            raise UserTypeError(
                "`weights` must be an entry name or a path. Received: "
                f"weights={weights!r}"
            )
        spec = weights if isinstance(weights, WeightsSpec) else _spec_for(name, weights)
        _check_same_function(spec, kwargs, entry.cls)
        path = fetch_weights_file(spec)
        asked = dict(kwargs)
        kwargs = {**spec.model_config, **kwargs}
        if spec.transform and "preprocessing" not in asked and _takes(entry.cls, "preprocessing"):
            from zoo.models.preprocessing import preprocessing_arguments

            kwargs["preprocessing"] = preprocessing_arguments(spec.transform,
                                                              kwargs["input_shape"][:2])
        changed = {k for k, v in asked.items() if jsonable(v) != spec.model_config.get(k)}
        skip_head = bool(changed & head_arguments(entry.cls))
        compare = bool(changed - {"preprocessing", "name", "trainable"})
    else:
        spec = None
        path = resolve(weights)
        skip_head = kwargs.get("include_top") is False or kwargs.get("features_only") is True
        compare = True
    registry.check_arguments(entry, kwargs)
    model = loading.build_with_weights(
        lambda: entry.cls(**{"name": name, **entry.defaults, **kwargs}), path,
        skip_mismatch=skip_mismatch, skip_head=skip_head, compare=compare)
    if spec is not None and spec.input_range is not None:
        low, high = spec.input_range
        model.input_range = InputRange(low, high, f"the weights {spec.name!r} "
                                                  f"({spec.preprocessing})")
    # what the model was created from: a LoRA file records it (zoo.lora) and is loaded
    # only onto the same base
    model.weights_source = ({"name": spec.name, "sha256": spec.sha256} if spec is not None
                            else {"name": Path(path).name, "sha256": sha256_of(path)})
    return model


def _takes(cls, argument):
    return argument in inspect.signature(cls.__init__).parameters


def _check_same_function(spec, kwargs, cls):
    preserving = preserving_arguments(cls)
    for key, value in kwargs.items():
        if key in preserving or key not in spec.model_config:
            continue
        recorded = spec.model_config[key]
        if jsonable(value) != recorded:
            raise UserValueError(
                f"The weights {spec.name!r} were trained with {key}={recorded!r}; "
                f"{key}={value!r} changes the function they compute, so the model would "
                "load without error and be silently wrong. Keep the entry's value, or build "
                f"the model yourself and call zoo.weights.load_weights(model, {spec.name!r}). "
                f"Received: {key}={value!r}"
            )


def load_weights(model, weights, skip_mismatch=False):
    """Loads `weights` (entry name, WeightsSpec or path) into the built `model`.

    Before loading, the file's variables are compared with the model's (paths
    and shapes, as keras stores them). On a difference, with `skip_mismatch`
    the differing layers keep their values and a warning names them (e.g. a
    head built for another `num_classes`); without it a ValueError names them
    and the model is left unchanged.

    Example:

    ```python
    model = zoo.create("mlp", num_classes=5)
    zoo.weights.load_weights(model, "mlp.fashion_mnist", skip_mismatch=True)
    ```
    """
    if not getattr(model, "built", False):
        raise UserValueError(
            "Build the model before loading weights (zoo models are built when created). "
            f"Received: model={model!r}"
        )
    return loading.load_into(model, resolve(weights), skip_mismatch=skip_mismatch)


__all__ = [
    "ArtifactSpec",
    "WeightsIntegrityError",
    "WeightsNotFoundError",
    "WeightsSpec",
    "cache_dir",
    "create_with_weights",
    "fetch",
    "fetch_artifact",
    "get_weights",
    "list_weights",
    "load_weights",
    "register_weights",
    "resolve",
    "sha256_of",
]
