"""`Rules`: how a family maps its layer names to a checkpoint's tensor names.

Each family declares its own in `zoo/models/<family>/<family>_convert.py`
(`RULES = {source: Rules(...)}`), driven by the layer names its models use
(`stage2_block0_conv1` is torchvision's `layer2.0.conv1`).
"""

import re


class Rules:
    """Regex rules `(pattern, template)` on layer names; a template may be a function of the match.

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
        for pattern, template in self.rules:
            match = pattern.fullmatch(layer_name)
            if match:
                return template(match, model) if callable(template) else match.expand(template)
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
