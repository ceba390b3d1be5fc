"""LoRA fine-tuning as a workflow: enable, train, save the adapters alone, load, merge.

Low-rank adaptation (Hu et al. 2021) freezes a pretrained model and learns, for chosen
projections, a low-rank update `W + (alpha / rank) * A @ B`. keras gives `Dense` and
`EinsumDense` layers `enable_lora(rank)`; this module makes it a workflow over a whole
model:

```python
model = zoo.create("vit_b_16", weights="imagenet", num_classes=10)
report = zoo.lora.enable(model, rank=8)       # query and value projections, as KerasHub
print(report)                                  # trainable parameters, layers adapted
model.compile(optimizer="adamw")
model.fit(train, epochs=3, callbacks=standard_callbacks("runs/lora"))
zoo.lora.save(model, "runs/lora/adapters.lora.h5")   # the adapters (and head) alone

base = zoo.create("vit_b_16", weights="imagenet", num_classes=10)
zoo.lora.load(base, "runs/lora/adapters.lora.h5")    # refused on another base
merged = zoo.lora.merge(base)                  # plain layers, W + (alpha / rank) A B: export
```

A fused query-key-value projection (Swin's `*_attn_qkv`, a layer with `fused_parts`)
takes one update per named part ("query", "value"), the key's third unchanged.

`enable` freezes every variable but the LoRA factors and, with `train_head=True`, the
classifier head (the layers the weights loader calls the head: `logits`, ...; a new
head for another `num_classes` must learn). A file written by `save` holds only what
trains (the LoRA factors, the head), the rank, alpha and targets, and the name and
sha256 of the base weights the model was created from (`zoo.create(name, weights=...)`
records them): `load` refuses a file made on other base weights. `merge` returns a new
model with the updates folded into the kernels and no LoRA variables, for export and
deployment.
"""

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np

from zoo import registry
from zoo.utils.checks import check_bool, check_positive, check_positive_int
from zoo.utils.files import atomic_path
from zoo.weights.loading import head_layers
from zoo.errors import UserValueError

#: the layers LoRA adapts by default: the attention's query and value projections, as
#: KerasHub's `Backbone.enable_lora` and the LoRA paper (names ending `_query`/`_value`)
DEFAULT_TARGETS = ("query", "value")
FORMAT = "zoo-lora-1"
#: the attribute `zoo.create(name, weights=...)` sets on a model: the weights it holds
SOURCE_ATTRIBUTE = "weights_source"


@dataclasses.dataclass(frozen=True)
class LoraReport:
    """What `enable` did: the rank and alpha, the layers adapted, the trainable parameters."""

    rank: int
    alpha: float
    layers: tuple
    head: tuple
    trainable_params: int
    total_params: int

    def __str__(self):
        share = 100.0 * self.trainable_params / max(self.total_params, 1)
        head = f" + head {list(self.head)}" if self.head else ""
        return (f"LoRA rank {self.rank} (alpha {self.alpha:g}) on {len(self.layers)} layers"
                f"{head}: {self.trainable_params:,} trainable parameters of "
                f"{self.total_params:,} ({share:.2f}%)")


def layers_of(model):
    """Every layer inside `model` (nested models' layers too), depth first, `model` not."""
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        out.extend(layers_of(layer))
    return out


def _matches(layer, targets):
    return any(layer.name == t or layer.name.endswith(f"_{t}") for t in targets)


def _plan(layers, targets):
    """[(layer, parts)]: the layers `targets` name (parts None: the whole kernel), and the
    fused projections (a layer with `fused_parts`, e.g. Swin's query-key-value `Dense`)
    whose parts they name (parts: those, in the layer's order)."""
    plan = []
    for layer in layers:
        fused = getattr(layer, "fused_parts", ())
        if _matches(layer, targets):
            plan.append((layer, None))
        elif any(t in fused for t in targets):
            plan.append((layer, tuple(p for p in fused if p in targets)))
    return plan


def _check_targets(targets):
    if isinstance(targets, str):
        targets = (targets,)
    try:
        targets = tuple(targets)
    except TypeError:
        targets = ()
    if not targets or not all(isinstance(t, str) and t for t in targets):
        raise UserValueError("`targets` must be layer names or name endings (e.g. ('query', "
                             f"'value')). Received: targets={targets!r}")
    return targets


def count(variables):
    return int(sum(np.prod(v.shape) for v in variables))


def lora_layers(model):
    """The layers of `model` with LoRA enabled."""
    return [layer for layer in layers_of(model) if getattr(layer, "lora_enabled", False)]


def enable(model, rank, targets=DEFAULT_TARGETS, alpha=None, train_head=True):
    """Adds rank-`rank` LoRA factors to the `targets` layers and freezes everything else.

    Args:
        model: a built keras model (a zoo model, or a keras model around one).
        rank: the rank of each update (an int > 0).
        targets: layer names, or name endings after an underscore: "query" adapts
            `block0_query`, `block1_query`, ... (the transformer families' attention
            projections). Each must be a `Dense` or `EinsumDense` (keras's
            `enable_lora`). A fused projection (a layer with `fused_parts`, as Swin's
            `*_attn_qkv`) takes an update on the parts the targets name ("query",
            "value": one rank-`rank` update each, the key's third unchanged); its own
            name adapts the whole fused kernel.
        alpha: the update's scale numerator (`alpha / rank`); None: `rank` (scale 1).
        train_head: keep the classifier head trainable (layers named as a head:
            `logits`, ...); False freezes it too.

    Returns:
        A `LoraReport` (its `str` is one line: layers, trainable parameters).

    Raises:
        ValueError: a bad argument, a model with LoRA already enabled, or targets that
            name no layer (the message lists the layers that could be adapted).
    """
    rank = check_positive_int("rank", rank)
    alpha = float(rank if alpha is None else check_positive("alpha", alpha))
    targets = _check_targets(targets)
    train_head = check_bool("train_head", train_head)
    if not getattr(model, "built", False):
        raise UserValueError(f"Build the model before enabling LoRA. Received: model={model!r}")
    if lora_layers(model):
        raise UserValueError("LoRA is already enabled on this model (merge it first, "
                             f"zoo.lora.merge). Received: model={model.name!r}")
    layers = layers_of(model)
    plan = _plan(layers, targets)
    if not plan or not all(hasattr(layer, "enable_lora") for layer, _ in plan):
        able = sorted({layer.name for layer in layers if hasattr(layer, "enable_lora")})
        bad = [layer.name for layer, _ in plan if not hasattr(layer, "enable_lora")]
        raise UserValueError(
            f"`targets` must name Dense or EinsumDense layers of the model"
            f"{f' ({bad[:3]} are not)' if bad else ''}; layers that take LoRA: "
            f"{able[:12]}{' ...' if len(able) > 12 else ''}. Received: targets={targets!r}")
    return _apply(model, layers, plan, rank, alpha, train_head)


def _apply(model, layers, plan, rank, alpha, train_head):
    """Freezes `model` but the head and enables LoRA on each (layer, parts) of `plan`."""
    # keras propagates `trainable` down a nested model: everything on first, then each leaf
    # layer off, so that nested models stay on and their adapters train
    model.trainable = True
    leaves = [layer for layer in layers if not hasattr(layer, "layers")]
    for layer in leaves:
        layer.trainable = False
    # the head, as the weights loader names it for the model and each zoo model inside
    heads = [head_layers(m) for m in [model] + layers if hasattr(m, "layers")]
    head = [layer for layer in leaves if train_head and layer.weights
            and any(h.fullmatch(layer.name) for h in heads)]
    for layer in head:
        layer.trainable = True
    for layer, parts in plan:
        layer.trainable = True
        if parts is None:
            layer.enable_lora(rank, lora_alpha=alpha)  # freezes the kernel
        else:
            layer.enable_lora(rank, lora_alpha=alpha, parts=parts)
        for variable in layer.weights:
            if not variable.path.endswith(("lora_kernel_a", "lora_kernel_b")):
                variable.trainable = False  # the bias too: the adapters alone learn
    report = LoraReport(rank, alpha, tuple(layer.name for layer, _ in plan),
                        tuple(layer.name for layer in head), count(model.trainable_weights),
                        count(model.weights))
    return report


def base_of(model):
    """{"name", "sha256"} of the weights `model` was created from, or None."""
    for layer in [model] + layers_of(model):
        source = getattr(layer, SOURCE_ATTRIBUTE, None)
        if source:
            return dict(source)
    return None


def _layer_variables(layer):
    """{variable name: variable} of a layer (its last path part)."""
    return {v.path.rsplit("/", 1)[-1]: v for v in layer.weights}


def save(model, path):
    """Writes the LoRA factors (and a trained head) of `model` alone to `path` (`.lora.h5`).

    The file records the rank, alpha, the adapted layers and the base weights' name and
    sha256; it is a few percent of the model's size.

    Raises:
        ValueError: no LoRA on the model, a model created without published weights or a
            weights file (no base to record), or a path not ending in `.lora.h5`.
    """
    import h5py

    path = Path(path)
    if not path.name.endswith(".lora.h5"):
        raise UserValueError(f"`path` must end with .lora.h5. Received: path={str(path)!r}")
    adapted = lora_layers(model)
    if not adapted:
        raise UserValueError("The model has no LoRA layers: call zoo.lora.enable first. "
                             f"Received: model={model.name!r}")
    base = base_of(model)
    if base is None:
        raise UserValueError(
            "LoRA weights adapt base weights, and this model records none: create it with "
            "zoo.create(name, weights=...) (a published entry or a weights file). "
            f"Received: model={model.name!r}")
    first = adapted[0]
    # what trains besides the adapters: the head (a zoo classifier's, or a new one around it)
    head = [layer for layer in layers_of(model)
            if not hasattr(layer, "layers") and layer.trainable_weights
            and not getattr(layer, "lora_enabled", False)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["base"] = json.dumps(base)
        f.attrs["rank"] = int(first.lora_rank)
        f.attrs["alpha"] = float(first.lora_alpha)
        f.attrs["layers"] = json.dumps([layer.name for layer in adapted])
        f.attrs["head"] = json.dumps([layer.name for layer in head])
        f.attrs["parts"] = json.dumps({layer.name: list(layer.lora_parts) for layer in adapted
                                       if getattr(layer, "lora_parts", None)})
        f.attrs["keras_version"] = keras.__version__
        for layer in adapted:
            group = f.create_group(f"lora/{layer.name}")
            for name in ("lora_kernel_a", "lora_kernel_b"):
                group[name] = keras.ops.convert_to_numpy(getattr(layer, name))
        for layer in head:
            group = f.create_group(f"head/{layer.name}")
            for name, variable in _layer_variables(layer).items():
                group[name] = keras.ops.convert_to_numpy(variable)
    return path


def read(path):
    """The metadata of a LoRA file: {"base", "rank", "alpha", "layers", "head", "parts"}
    ("parts": {layer: the parts adapted} for fused projections)."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise OSError(f"no {FORMAT} format mark")
            return {"base": json.loads(f.attrs["base"]), "rank": int(f.attrs["rank"]),
                    "alpha": float(f.attrs["alpha"]), "layers": json.loads(f.attrs["layers"]),
                    "head": json.loads(f.attrs["head"]),
                    "parts": json.loads(f.attrs.get("parts", "{}"))}
    except (OSError, KeyError, ValueError) as err:
        raise UserValueError(f"Cannot read LoRA weights from {path}: not a file zoo.lora.save "
                             f"wrote, or a damaged one ({err}). "
                             f"Received: path={str(path)!r}") from None


def load(model, path):
    """Loads the LoRA factors (and head) saved by `save` into `model`, enabling LoRA first
    when it is not (same rank, alpha and layers).

    Raises:
        ValueError: the file was made on other base weights than the model holds (both
            named), the model records no base weights, or its layers do not fit.
    """
    import h5py

    meta = read(path)
    base = base_of(model)
    if base is None or base["sha256"] != meta["base"]["sha256"]:
        held = "no record of base weights" if base is None else \
            f"{base['name']!r} (sha256 {base['sha256']})"
        raise UserValueError(
            f"The LoRA weights in {path} adapt the base weights {meta['base']['name']!r} "
            f"(sha256 {meta['base']['sha256']}); the model holds {held}. Create the model "
            f"with zoo.create(..., weights={meta['base']['name']!r}) first. "
            f"Received: model={model.name!r}")
    by_name = {layer.name: layer for layer in layers_of(model)}
    missing = [n for n in meta["layers"] + meta["head"] if n not in by_name]
    if missing:
        raise UserValueError(f"The model has no layer {missing[0]!r} that the LoRA weights in "
                             f"{path} adapt. Received: model={model.name!r}")
    if not lora_layers(model):
        plan = [(by_name[n], meta["parts"].get(n)) for n in meta["layers"]]
        _apply(model, layers_of(model), plan, meta["rank"], meta["alpha"],
               bool(meta["head"]))
    with h5py.File(path, "r") as f:
        pairs = []
        for group in ("lora", "head"):
            for name in meta["layers" if group == "lora" else "head"]:
                variables = _layer_variables(by_name[name])
                for key, dataset in f[f"{group}/{name}"].items():
                    variable = variables.get(key)
                    if variable is None or tuple(variable.shape) != dataset.shape:
                        raise UserValueError(
                            f"Layer {name!r}: the LoRA file's {key} has shape "
                            f"{dataset.shape}, the model's "
                            f"{None if variable is None else tuple(variable.shape)}. "
                            f"Received: path={str(path)!r}")
                    pairs.append((variable, dataset[()]))
    for variable, value in pairs:
        variable.assign(value)
    return model


def merge(model):
    """A new model computing what `model` computes, with each LoRA update folded into its
    kernel (`W + (alpha / rank) * A @ B`) and no LoRA variables: for export.

    The model is rebuilt from its config (a zoo model's config has no LoRA; a keras
    layer's `lora_rank` is dropped) and given the merged weights (keras's `Dense`
    saves its kernel merged). `model` itself is unchanged.
    """
    import tempfile

    if not lora_layers(model):
        raise UserValueError(f"The model has no LoRA layers to merge. "
                             f"Received: model={model.name!r}")

    def without_lora(layer):
        config = layer.get_config()
        if getattr(layer, "lora_enabled", False):
            config = {k: v for k, v in config.items()
                      if k not in ("lora_rank", "lora_alpha", "lora_parts")}
        return layer.__class__.from_config(config)

    if registry.family_of(model) is not None:  # a zoo model: its config has no LoRA
        merged = type(model).from_config(model.get_config())
    else:  # a keras model around one: each layer rebuilt without LoRA
        merged = keras.models.clone_model(model, clone_function=without_lora)
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "merged.weights.h5"
        model.save_weights(weights)  # keras writes LoRA kernels merged
        merged.load_weights(weights)
    if lora_layers(merged):
        raise AssertionError("merge left LoRA layers")  # pragma: no cover - a zoo bug
    source = base_of(model)
    if source is not None:
        setattr(merged, SOURCE_ATTRIBUTE, source)
    return merged
