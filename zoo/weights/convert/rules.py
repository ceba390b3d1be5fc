"""`Rules`: how a family maps its layer names to a checkpoint's tensor names.

Each family declares its own in `zoo/models/<family>/<family>_convert.py`
(`RULES = {source: Rules(...)}`), driven by the layer names its models use
(`stage2_block0_conv1` is torchvision's `layer2.0.conv1`).
"""

import dataclasses
import re
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a layer's variables come from, when not every one is `<module>.<suffix>`.

    A rule's template may return a `Source` instead of a module name.

    Args:
        module: the module the layer's other variables come from (`<module>.weight`, ...),
            or None when `names` covers them all.
        names: {variable name: full source key} for variables stored elsewhere, e.g. a
            class token `{"class_token": "class_token"}` or timm's layer scale
            `{"gamma": "blocks.0.ls1.gamma"}`.
        part: `(index, parts)`: the variable is the `index`-th of `parts` equal slices of
            its source tensor along the first axis (torch's fused query/key/value
            projections: `in_proj_weight`, timm's `qkv.weight`).

    Example:

    ```python
    Source("blocks.0.attn.qkv", part=(2, 3))   # the value projection of a fused qkv
    ```
    """

    module: Optional[str] = None
    names: dict = dataclasses.field(default_factory=dict)
    part: Optional[tuple] = None


class Rules:
    """Regex rules `(pattern, template)` on layer names; a template may be a function of the match.

    A pattern matches a layer name and gives the source module (the variable's
    suffix follows: `weight`, `bias`, BatchNorm's `running_mean`...); a pattern
    with a "/" matches `layer/variable` and gives the whole tensor name, for a
    variable that is a module's own parameter (torchvision's ConvNeXt
    `features.1.0.layer_scale`, timm's `stages.0.blocks.0.gamma`).

    Args:
        rules: `[(pattern, template or fn(match, model) -> str or Source), ...]`, full
            matches.
        head: prefixes of the source keys that belong to the classifier (skipped,
            without a warning, when the model has no classifier).
        flatten_dense: the zoo Dense layer fed by a Flatten (its kernel's rows
            are reordered from torch's channels-first flatten to keras's
            channels-last one).

    Example:

    ```python
    RULES = {"torchvision": Rules([(r"stem_conv", "conv1"), (r"logits", "fc")], head=("fc.",))}
    ```
    """

    def __init__(self, rules, head, flatten_dense=None):
        self.rules = [(re.compile(p), t) for p, t in rules]
        self.head = tuple(head)
        self.flatten_dense = flatten_dense

    def module(self, layer_name, model):
        """The source module of a layer (None: no rule)."""
        return self._apply(layer_name, model, tensor=False)

    def tensor(self, layer_name, variable_name, model):
        """The whole source tensor name of one variable, where a `layer/variable` rule gives
        it (None: the module's rule and the variable's suffix apply)."""
        return self._apply(f"{layer_name}/{variable_name}", model, tensor=True)

    def _apply(self, name, model, tensor):
        for pattern, template in self.rules:
            if ("/" in pattern.pattern) != tensor:
                continue
            match = pattern.fullmatch(name)
            if match:
                if callable(template):
                    return template(match, model)
                return template if isinstance(template, Source) else match.expand(template)
        return None

    def is_head(self, key):
        return key.startswith(self.head)


def plus_one(template, group="n"):
    """A template whose `{n}` is the match's group `n` plus one (torch counts from 1)."""
    return lambda m, model: m.expand(template).replace("{n}", str(int(m.group(group)) + 1))


def max_pool_stage_modules(reference):
    """The names of a torch reference's `features.<i>` max-pools: where AlexNet's and VGG's
    stages end (their `stage_modules`)."""
    import torch

    return [f"features.{i}" for i, m in enumerate(reference.features)
            if isinstance(m, torch.nn.MaxPool2d)]


def stage_ends(sequence):
    """The names in `sequence` ([(name, torch module)], a reference's trunk in order) that
    end a stage: each one before a module holding a stride-2 convolution (the resolution
    halves there), and the last one. A family's `stage_modules(reference)` helper."""
    import torch

    def strided(module):
        return any(m.stride[0] > 1 for m in module.modules() if isinstance(m, torch.nn.Conv2d))

    ends = [name for (name, _), (_, after) in zip(sequence, sequence[1:]) if strided(after)]
    return ends + [sequence[-1][0]]
