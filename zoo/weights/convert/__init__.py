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
from zoo.weights.convert.rules import Rules

SOURCES = ("torchvision", "timm")
# torch.hub's rule: the file name "<name>-<sha256 prefix>.<ext>" states the hash prefix
HASH_PREFIX_IN_NAME = re.compile(r"-([a-f0-9]*)\.")


class ConversionError(UserValueError):
    """A checkpoint does not fit the model (another architecture, missing or extra tensors)."""


@dataclasses.dataclass(frozen=True)
class Assignment:
    """One zoo variable <- one source tensor.

    kind: "conv" (OIHW -> HWIO), "dense" (out x in -> in x out), "dense_nchw"
    (a Dense after Flatten: torch flattens channels first, keras channels last;
    `map_size` is the flattened map's (height, width)), or "copy".
    """

    variable: object
    key: str
    kind: str
    head: bool
    map_size: tuple = None

    @property
    def layer(self):
        return self.variable.path.split("/")[-2]

    def source_shape(self):
        shape = tuple(self.variable.shape)
        if self.kind == "conv":
            return (shape[3], shape[2], shape[0], shape[1])
        if self.kind in ("dense", "dense_nchw"):
            return (shape[1], shape[0])
        return shape

    def to_keras(self, value):
        value = np.asarray(value, dtype="float32")
        if self.kind == "conv":
            return value.transpose(2, 3, 1, 0)
        if self.kind == "dense":
            return value.T
        if self.kind == "dense_nchw":
            height, width = self.map_size
            out = value.shape[0]
            value = value.reshape(out, -1, height, width).transpose(2, 3, 1, 0)
            return value.reshape(-1, out)
        return value


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


def _flatten_map_size(model):
    """(height, width) of the map the model's `flatten` layer turns into a vector."""
    if getattr(model, "head_pool_size", None) is not None:
        return tuple(model.head_pool_size)
    return tuple(model.get_layer("flatten").input.shape[1:3])


def plan(model, source="torchvision"):
    """[Assignment] for every weight of `model` (BatchNorm statistics included), in order."""
    rules = rules_for(model, source)
    assignments = []
    for variable in model.weights:
        layer, name = variable.path.split("/")[-2:]
        module = rules.module(layer, model)
        if module is None:
            raise ConversionError(
                f"No source tensor is known for layer {layer!r} ({variable.path}) of "
                f"{type(model).__name__} {model.name!r}."
            )
        kind, map_size = "copy", None
        if name == "kernel":
            suffix = "weight"
            kind = "conv" if len(variable.shape) == 4 else "dense"
            if kind == "dense" and layer == rules.flatten_dense:
                kind, map_size = "dense_nchw", _flatten_map_size(model)
        elif name in _BATCH_NORM:
            suffix = _BATCH_NORM[name]
        else:
            suffix = name  # bias
        key = f"{module}.{suffix}"
        assignments.append(Assignment(variable, key, kind, rules.is_head(key), map_size))
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
        if shapes[a.key] != a.source_shape():
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
    "timm") picks the family's rules.
    """
    assignments = plan(model, checkpoint_format)
    tensors = {normalize_key(k, model): v for k, v in tensors.items()}
    check(assignments, {k: np.shape(v) for k, v in tensors.items()}, model, source,
          checkpoint_format)
    return [(a.variable, a.to_keras(tensors[a.key])) for a in assignments]


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
        if isinstance(state, dict) and "state_dict" in state and len(state) < 8:
            state = state["state_dict"]
        return {k: v.float().numpy() for k, v in state.items() if hasattr(v, "numpy")}
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
