"""Converters: torchvision state dicts (`.pth`) and timm safetensors into zoo vision models.

```python
from zoo.weights import convert
model = zoo.create("resnet50")
tensors = convert.read_checkpoint("resnet50-11ad3fa6.pth", "torchvision")
convert.assign(model, convert.convert(model, tensors))
```

`plan(model)` maps every weight of the model to one source tensor through its
family's rules (`RULES` in `zoo/models/<family>/<family>_convert.py`, see
`zoo.weights.convert.rules`), from the layer names alone;
`check` compares the plan with a checkpoint's keys and shapes (no values
needed: it also runs on torch's `meta` device and on a model built without
initializing its variables); `convert` returns the values in keras layout.
"""

import dataclasses
import re
from pathlib import Path

import numpy as np

from zoo import registry
from zoo.errors import UserFileNotFoundError, UserImportError, UserValueError
from zoo.weights.convert.rules import Rules, Source

SOURCES = ("torchvision", "timm")
# torch.hub's rule: the file name "<name>-<sha256 prefix>.<ext>" states the hash prefix
HASH_PREFIX_IN_NAME = re.compile(r"-([a-f0-9]*)\.")


class ConversionError(UserValueError):
    """A checkpoint does not fit the model (another architecture, missing or extra tensors)."""


@dataclasses.dataclass(frozen=True)
class Assignment:
    """One zoo variable <- one source tensor.

    kind: "conv" (OIHW -> HWIO), "depthwise" (a `DepthwiseConv2D`: torch's
    (C x multiplier, 1, H, W) -> (H, W, C, multiplier)), "dense" (out x in -> in x out),
    "dense_nchw" (a Dense after Flatten: torch flattens channels first, keras channels
    last; `map_size` is the flattened map's (height, width)), or "copy" (the same
    values; a vector a checkpoint stores with singleton axes, as torchvision's
    ConvNeXt layer scale (C, 1, 1), is reshaped).
    part: `(index, parts)`: the variable is that slice of the tensor along its first
    axis (a fused query/key/value projection), or None.
    """

    variable: object
    key: str
    kind: str
    head: bool
    map_size: tuple = None
    part: tuple = None

    @property
    def layer(self):
        return self.variable.path.split("/")[-2]

    def source_shape(self):
        shape = tuple(self.variable.shape)
        if self.kind == "conv":
            shape = (shape[3], shape[2], shape[0], shape[1])
        elif self.kind == "depthwise":
            shape = (shape[2] * shape[3], 1, shape[0], shape[1])
        elif self.kind in ("dense", "dense_nchw"):
            shape = (shape[1], shape[0])
        if self.part is not None:
            shape = (shape[0] * self.part[1],) + shape[1:]
        return shape

    def to_keras(self, value):
        value = np.asarray(value)
        # an index buffer keeps its integers; everything else is float32
        value = value.astype("int32" if "int" in str(self.variable.dtype) else "float32")
        if self.part is not None:
            index, parts = self.part
            size = value.shape[0] // parts
            value = value[index * size:(index + 1) * size]
        if self.kind == "conv":
            return value.transpose(2, 3, 1, 0)
        if self.kind == "depthwise":
            height, width, channels, multiplier = self.variable.shape
            return value.reshape(channels, multiplier, height, width).transpose(2, 3, 0, 1)
        if self.kind == "dense":
            return value.reshape(value.shape[0], -1).T
        if self.kind == "dense_nchw":
            height, width = self.map_size
            out = value.shape[0]
            value = value.reshape(out, -1, height, width).transpose(2, 3, 1, 0)
            return value.reshape(-1, out)
        return value.reshape(self.variable.shape)

    def fits(self, shape):
        """Whether a source tensor of `shape` fills the variable."""
        if self.kind == "dense" and len(shape) == 4 and tuple(shape[2:]) == (1, 1):
            # a 1x1 convolution applied to pooled features is a Dense layer (timm's
            # MobileNetV3 `conv_head`)
            return tuple(shape[:2]) == self.source_shape()
        if self.kind == "copy" and shape != self.source_shape():
            # the same vector with singleton axes (C, 1, 1) fits a (C,) variable
            return [d for d in shape if d != 1] == [d for d in self.source_shape() if d != 1]
        return shape == self.source_shape()


_BATCH_NORM = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean",
               "moving_variance": "running_var"}


def _declaration(model):
    family = registry.family_of(model)
    return family.declaration("convert") if family is not None else None


def converting_families():
    """Names of the families that declare conversion rules."""
    return sorted(name for name, family in registry.families().items()
                  if family.declaration("convert") is not None)


def rules_for(model, source="torchvision"):
    """The `Rules` that `model`'s family declares for checkpoints of `source`."""
    declared = _declaration(model)
    rules = getattr(declared, "RULES", {}).get(source) if declared is not None else None
    if not isinstance(rules, Rules):
        raise ConversionError(
            f"No {source} converter for {type(model).__name__} models; families with "
            f"converters: {converting_families()}. Received: model={model.name!r}"
        )
    return rules


def normalize_key(key, model=None):
    """A source key in the naming the family's rules read (a family may rename old keys)."""
    declared = _declaration(model) if model is not None else None
    rename = getattr(declared, "normalize_key", None)
    return rename(key) if rename is not None else key


def normalize_state(tensors, model=None):
    """A checkpoint in the layout the family's rules read: a family may convert another
    layout whole (`normalize_state` in its convert module: the DINOv2 authors' files, whose
    class token carries its position embedding, as timm's checkpoint filter does)."""
    declared = _declaration(model) if model is not None else None
    rewrite = getattr(declared, "normalize_state", None)
    return rewrite(dict(tensors)) if rewrite is not None else tensors


def _flatten_map_size(model):
    """(height, width) of the map the model's `flatten` layer turns into a vector."""
    if getattr(model, "head_pool_size", None) is not None:
        return tuple(model.head_pool_size)
    return tuple(model.get_layer("flatten").input.shape[1:3])


def _is_depthwise(model, layer):
    import keras

    try:
        return isinstance(model.get_layer(layer), keras.layers.DepthwiseConv2D)
    except ValueError:  # a layer nested in another (not a zoo vision model's layout)
        return False


def plan(model, source="torchvision"):
    """[Assignment] for every weight of `model` (BatchNorm statistics included), in order."""
    rules = rules_for(model, source)
    assignments = []
    for variable in model.weights:
        layer, name = variable.path.split("/")[-2:]
        key = rules.tensor(layer, name, model)
        if key is not None:  # a module's own parameter, named whole by the rules
            assignments.append(Assignment(variable, key, "copy", rules.is_head(key)))
            continue
        module = rules.module(layer, model)
        source = module if isinstance(module, Source) else Source(module)
        module = source.module
        if module is None and name not in source.names:
            raise ConversionError(
                f"No source tensor is known for layer {layer!r} ({variable.path}) of "
                f"{type(model).__name__} {model.name!r}."
            )
        kind, map_size = "copy", None
        if name == "kernel":
            suffix = "weight"
            kind = "conv" if len(variable.shape) == 4 else "dense"
            if kind == "conv" and _is_depthwise(model, layer):
                kind = "depthwise"
            if kind == "dense" and layer == rules.flatten_dense:
                kind, map_size = "dense_nchw", _flatten_map_size(model)
        elif name in _BATCH_NORM:
            suffix = _BATCH_NORM[name]
        else:
            suffix = name  # bias
        key = source.names.get(name) or f"{module}.{suffix}"
        assignments.append(Assignment(variable, key, kind, rules.is_head(key), map_size,
                                      source.part))
    return assignments


def check(assignments, shapes, model, source="checkpoint", checkpoint_format="torchvision"):
    """Raises ConversionError unless `shapes` ({key: shape}) fits the plan exactly.

    Every variable needs its tensor with the expected shape; every tensor must
    be used, except BatchNorm's `num_batches_tracked` counters and, when the
    model has no classifier (`include_top=False`, `features_only=True`,
    GoogLeNet without auxiliary heads), the classifier's tensors.
    """
    shapes = {normalize_key(k, model): tuple(v) for k, v in shapes.items()}
    rules = rules_for(model, checkpoint_format)
    for a in assignments:
        if a.key not in shapes:
            raise ConversionError(
                f"The {source} has no tensor {a.key!r} for layer {a.layer!r} "
                f"({a.variable.path}, shape {a.source_shape()} in torch layout). Is it a "
                f"checkpoint of another architecture than {type(model).__name__} {model.name!r}?"
            )
        if not a.fits(shapes[a.key]):
            raise ConversionError(
                f"The {source} does not fit {type(model).__name__} {model.name!r}: first "
                f"mismatch at layer {a.layer!r}: tensor {a.key!r} has shape {shapes[a.key]}, "
                f"the layer needs {a.source_shape()} (torch layout; keras "
                f"{tuple(a.variable.shape)}). Is it a checkpoint of another architecture?"
            )
    used = {a.key for a in assignments}
    # classifier modules the model has (GoogLeNet without auxiliary heads has "fc" only)
    head_modules = {a.key.split(".")[0] for a in assignments if a.head}
    unused = sorted(
        k for k in shapes
        if k not in used and not k.endswith("num_batches_tracked")
        and not (rules.is_head(k) and k.split(".")[0] not in head_modules)
    )
    if unused:
        raise ConversionError(
            f"The {source} has {len(unused)} tensor(s) that {type(model).__name__} "
            f"{model.name!r} has no place for: {unused[:8]}"
            f"{' ...' if len(unused) > 8 else ''}. Is it a checkpoint of another architecture?"
        )


def convert(model, tensors, source="checkpoint", checkpoint_format="torchvision"):
    """[(variable, value in keras layout)] for every weight of `model` from `tensors`.

    `source` names the checkpoint in messages; `checkpoint_format` ("torchvision",
    "timm") picks the family's rules. Every tensor a weight takes is checked first, so a
    bad checkpoint is refused before anything is written: its shape (`check`), its dtype
    (floating point: an int8 tensor without its scales is a quantized checkpoint, not
    weights) and its values (finite).
    """
    assignments = plan(model, checkpoint_format)
    tensors = {normalize_key(k, model): v for k, v in normalize_state(tensors, model).items()}
    check(assignments, {k: np.shape(v) for k, v in tensors.items()}, model, source,
          checkpoint_format)
    check_values(assignments, tensors, source)
    return [(a.variable, a.to_keras(tensors[a.key])) for a in assignments]


def check_values(assignments, tensors, source="checkpoint"):
    """Raises ConversionError at the first tensor a weight takes that is not floating
    point or holds a NaN or an inf, naming it and its layer."""
    for a in assignments:
        value = np.asarray(tensors[a.key])
        if value.dtype.kind in "iu" and "int" in str(a.variable.dtype):
            continue  # an index buffer (Swin's relative_position_index) into an int variable
        if value.dtype.kind != "f":
            raise ConversionError(
                f"The {source} stores {a.key!r} (layer {a.layer!r}) as {value.dtype}, not "
                "floating point: a quantized checkpoint (integer values without their "
                "scales) is not weights the zoo can port. Use the float checkpoint."
            )
        if not np.all(np.isfinite(value)):
            bad = int(value.size - np.count_nonzero(np.isfinite(value)))
            raise ConversionError(
                f"The {source} holds NaN or inf in {a.key!r} (layer {a.layer!r}: {bad} of "
                f"{value.size} values): it is refused and nothing is written."
            )


def assign(model, values):
    """Assigns converted values to an initialized model (see `zoo.compat` for a deferred one)."""
    for variable, value in values:
        variable.assign(value)
    return model


def read_checkpoint(path, source):
    """{key: numpy array} of a torchvision `.pth` state dict or a timm `.safetensors` file.

    torchvision files are read with `torch.load(..., weights_only=True)` (no
    code from the file runs); safetensors with the `safetensors` package's
    numpy API (no torch needed).

    Raises:
        ValueError: unknown `source`, or a file that is not a readable
            checkpoint of that format (the message names the file).
    """
    if source not in SOURCES:
        raise UserValueError(f"`source` must be one of {SOURCES}. Received: source={source!r}")
    path = Path(path)
    if not path.is_file():
        raise UserFileNotFoundError(f"No checkpoint file at {path}. Received: path={str(path)!r}")
    try:
        if source == "timm" and path.suffix == ".safetensors":
            from safetensors.numpy import load_file

            return dict(load_file(str(path)))
        import torch

        state = torch.load(str(path), map_location="cpu", weights_only=True)
        for wrapper in ("state_dict", "model"):  # training checkpoints (DeiT's: "model")
            if isinstance(state, dict) and isinstance(state.get(wrapper), dict) \
                    and len(state) < 8:
                state = state[wrapper]
        return {k: _numpy(torch, k, v) for k, v in state.items() if hasattr(v, "numpy")}
    except ConversionError:
        raise
    except ImportError as err:
        need = "safetensors" if source == "timm" else "torch"
        raise UserImportError(
            f"Reading {source} checkpoints needs the `{need}` package ({err}): "
            f"pip install {need}") from None
    except Exception as err:
        raise UserValueError(
            f"Cannot read {path} as a {source} checkpoint ({type(err).__name__}: {err}). "
            "The file is corrupt, truncated or of another format."
        ) from None


def _numpy(torch, key, tensor):
    """A torch tensor as numpy: floating point as float32, integers as they are (so the
    conversion can refuse them), quantized tensors refused here."""
    if tensor.is_quantized:
        raise ConversionError(
            f"The checkpoint stores {key!r} quantized ({tensor.dtype}): the zoo ports float "
            "checkpoints. Use the float one.")
    if tensor.is_floating_point():
        return tensor.to(torch.float32).numpy()
    return tensor.numpy()


def check_hash_in_name(path):
    """torch.hub's check: the sha256 of `path` starts with the prefix its name states, if any.

    Returns the full sha256. Raises ValueError naming the file on a mismatch.
    """
    from zoo.weights.store import sha256_of

    path = Path(path)
    digest = sha256_of(path)
    match = HASH_PREFIX_IN_NAME.search(path.name)
    if match and match.group(1) and not digest.startswith(match.group(1)):
        raise UserValueError(
            f"The file {path} has sha256 {digest}, but its name states the prefix "
            f"{match.group(1)!r} (as torch.hub checks it): corrupt or not the published file."
        )
    return digest
