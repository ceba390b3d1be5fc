"""`Rules`: how a family maps its layer names to a checkpoint's tensor names.

Each family declares its own in `zoo/models/<family>/<family>_convert.py`
(`RULES = {source: Rules(...)}`), driven by the layer names its models use
(`stage2_block0_conv1` is torchvision's `layer2.0.conv1`).
"""

import re


class Rules:
    """Regex rules `(pattern, template)` on layer names; a template may be a function of the match.

    A pattern matches a layer name and gives the source module (the variable's
    suffix follows: `weight`, `bias`, BatchNorm's `running_mean`...); a pattern
    with a "/" matches `layer/variable` and gives the whole tensor name, for a
    variable that is a module's own parameter (torchvision's ConvNeXt
    `features.1.0.layer_scale`, timm's `stages.0.blocks.0.gamma`).

    Args:
        rules: `[(pattern, template or fn(match, model) -> str), ...]`, full matches.
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
                return template(match, model) if callable(template) else match.expand(template)
        return None

    def is_head(self, key):
        return key.startswith(self.head)


def plus_one(template, group="n"):
    """A template whose `{n}` is the match's group `n` plus one (torch counts from 1)."""
    return lambda m, model: m.expand(template).replace("{n}", str(int(m.group(group)) + 1))
