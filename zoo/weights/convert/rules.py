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
        for pattern, template in self.rules:
            match = pattern.fullmatch(layer_name)
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
