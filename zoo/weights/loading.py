"""Loading weights files into models: compared first, named layer by layer, heads swappable.

`build_with_weights` creates the model without drawing random values
(`zoo.compat.build_shapes_only`) and gives every variable its value from
the file; only variables the file does not fill (a new head) are initialized
as usual.
"""

import dataclasses
import re
import tempfile
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np

from zoo import compat
from zoo.errors import UserValueError

#: a model's head layers, unless its class says otherwise (`head_layers`, a regex on layer
#: names): a model built with another `num_classes`, `include_top=False` or
#: `features_only=True` differs from its weights only in these
HEAD_LAYERS = r"logits"


def head_layers(model):
    """The compiled regex of `model`'s head layer names (its class's `head_layers`)."""
    return re.compile(getattr(model, "head_layers", HEAD_LAYERS))


# keras's own messages about what the checks below already reported, more precisely
_KERAS_NOISE = (r"A total of \d+ objects could not be loaded", r".*__array__ implementation",
                r"Skipping variable loading", r".*could not be loaded",
                # a functional model's `_operations_by_depth` mirrors its layers, loaded already
                r"Skipping nested container at '_operations_by_depth")


@dataclasses.dataclass(frozen=True)
class Difference:
    """One variable that differs: its key in the file, both shapes (None: absent), its layer."""

    key: str
    file_shape: tuple
    model_shape: tuple
    layer: str = None
    head: bool = False  # the layer is one of the model's head layers

    def __str__(self):
        where = f"layer {self.layer!r} ({self.key})" if self.layer else self.key
        file_text = "absent" if self.file_shape is None else str(self.file_shape)
        model_text = "absent" if self.model_shape is None else str(self.model_shape)
        return f"{where}: file {file_text}, model {model_text}"


def read_variables(path):
    """({variable key: shape}, {key: layer name}) of a keras `.weights.h5` or `.keras` file.

    keras stores each layer's variables under `<path>/vars` with the layer's
    name as an attribute; that name is what error messages show.

    Raises:
        ValueError: not a readable keras weights file (corrupt, truncated,
            another format); the message names the file.
    """
    import h5py

    shapes, layers = {}, {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            shapes[name] = tuple(obj.shape)
            group = name.rsplit("/", 1)[0]
            layer = obj.parent.attrs.get("name") if group.endswith("vars") else None
            layers[name] = layer.decode() if isinstance(layer, bytes) else layer

    path = Path(path)
    try:
        _visit_weights_file(path, visit)
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise UserValueError(
            f"Cannot read weights from {path}: not a keras weights file (.weights.h5 or "
            f".keras), or a corrupt or truncated one ({type(err).__name__}: {err}). "
            f"Received: weights={str(path)!r}"
        ) from None
    return shapes, layers


def _visit_weights_file(path, visit):
    """`h5py`'s `visititems(visit)` over a `.weights.h5` file or the weights of a `.keras`."""
    import h5py

    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as member:
            with h5py.File(member, "r") as f:
                f.visititems(visit)
    else:
        with h5py.File(path, "r") as f:
            f.visititems(visit)


def check_finite_weights(path):
    """Raises ValueError, naming the file and the first variable, when a keras weights file
    (`.weights.h5`, or the weights inside a `.keras` file) holds a NaN or an inf: such
    weights would load without error and train or predict NaN later."""
    import h5py

    path = Path(path)
    found = []

    def visit(name, obj):
        if found or not isinstance(obj, h5py.Dataset) or obj.dtype.kind not in "fc":
            return
        value = obj[()]
        if not np.all(np.isfinite(value)):
            layer = obj.parent.attrs.get("name") if name.rsplit("/", 1)[0].endswith("vars") \
                else None
            layer = layer.decode() if isinstance(layer, bytes) else layer
            bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
            found.append(f"{'layer ' + repr(layer) + ' (' + name + ')' if layer else name}"
                         f": {bad} of {np.size(value)} values NaN or inf")

    try:
        _visit_weights_file(path, visit)
    except (OSError, KeyError, zipfile.BadZipFile):
        read_variables(path)  # raises the readable error this file deserves
        raise
    if found:
        raise UserValueError(
            f"The weights in {path} are not finite: first at {found[0]}. They are refused: "
            "a model holding them predicts NaN or trains to NaN. Received: "
            f"weights={str(path)!r}")


def model_variables(model, uninitialized=False):
    """`read_variables` of `model` as keras would save it (zeros in place of missing values)."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*__array__ implementation")
        own = Path(tmp) / "model.weights.h5"
        if uninitialized:
            zeros = [(v, np.zeros(v.shape, keras.backend.standardize_dtype(v.dtype)))
                     for v in model.variables]
            with keras.StatelessScope(state_mapping=zeros, initialize_variables=False):
                model.save_weights(str(own))
        else:
            model.save_weights(str(own))
        return read_variables(own)


def differences(model, path, uninitialized=False):
    """[Difference] between `model` and the weights file `path` (paths and shapes)."""
    mine, my_layers = model_variables(model, uninitialized)
    theirs, their_layers = read_variables(path)
    if not any(key.startswith("optimizer/") for key in mine):
        # a file saved from a trained model carries optimizer slots; keras ignores them here
        theirs = {k: v for k, v in theirs.items() if not k.startswith("optimizer/")}
    head = head_layers(model)
    out = []
    for key in sorted(set(mine) | set(theirs)):
        if theirs.get(key) != mine.get(key):
            layer = my_layers.get(key) or their_layers.get(key)
            out.append(Difference(key, theirs.get(key), mine.get(key), layer,
                                  bool(layer) and head.fullmatch(layer) is not None))
    return out


def describe(diffs, limit=8):
    lines = [f"  {d}" for d in diffs[:limit]]
    if len(diffs) > limit:
        lines.append(f"  ... and {len(diffs) - limit} more")
    return "\n".join(lines)


def mismatch_error(model, path, diffs):
    return ValueError(
        f"The weights in {path} do not fit {type(model).__name__} {model.name!r}:\n"
        f"{describe(diffs)}\nBuild the model with the entry's configuration, or pass "
        "skip_mismatch=True to load every matching layer and keep the others."
    )


def _load_quietly(model, path, skip):
    with warnings.catch_warnings():
        for message in _KERAS_NOISE:
            warnings.filterwarnings("ignore", message=message)
        model.load_weights(str(path), skip_mismatch=skip)


def build_with_weights(factory, path, skip_mismatch=False, skip_head=False, compare=True):
    """`factory()` (a model) holding the weights in `path`, built without random values first.

    Args:
        factory: builds the model (called once).
        path: a keras `.weights.h5` or `.keras` file.
        skip_mismatch: load what fits and keep the rest (with a warning naming
            each layer); otherwise any unexpected difference raises ValueError.
        skip_head: differences limited to the head (see `head_layers`) are
            expected (`include_top=False`, `features_only=True`, another
            `num_classes`): the head starts fresh, without a warning.
        compare: compare the model with the file first (False: the model is
            known to be the one the file was saved from).
    """
    check_finite_weights(path)
    model = compat.build_shapes_only(factory)
    with tempfile.TemporaryDirectory() as tmp:
        own = compat.in_own_layout(model, path, tmp, uninitialized=True)
        return _fill(model, own, path, skip_mismatch, skip_head, compare)


def _fill(model, path, named, skip_mismatch, skip_head, compare):
    """`build_with_weights` once the file `path` (named `named` in messages) is in the
    model's layout."""
    diffs = differences(model, path, uninitialized=True) if compare else []
    unexpected = [d for d in diffs if not (skip_head and d.head)]
    if unexpected and not skip_mismatch:
        raise mismatch_error(model, named, unexpected)
    if unexpected:
        warnings.warn(
            f"Skipping the layers that do not fit the weights in {named}; they start from "
            f"their initializers:\n{describe(unexpected)}",
            stacklevel=4,
        )
    with keras.StatelessScope(initialize_variables=False) as scope:
        _load_quietly(model, path, skip=bool(diffs))
    values = [(v, scope.get_current_value(v)) for v in model.variables]
    compat.initialize_deferred(model, [(v, value) for v, value in values if value is not None])
    return model


def load_into(model, path, skip_mismatch=False):
    """Loads `path` into the built, initialized `model` (see `zoo.weights.load_weights`)."""
    check_finite_weights(path)
    with tempfile.TemporaryDirectory() as tmp:
        return _load_into(model, compat.in_own_layout(model, path, tmp), path, skip_mismatch)


def _load_into(model, path, named, skip_mismatch):
    diffs = differences(model, path)
    if diffs:
        if not skip_mismatch:
            raise mismatch_error(model, named, diffs)
        warnings.warn(
            f"Skipping the layers that do not fit the weights in {named}; they keep "
            f"their current values:\n{describe(diffs)}",
            stacklevel=4,
        )
    _load_quietly(model, path, skip=bool(diffs))
    return model
