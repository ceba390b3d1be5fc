"""One mapping per family: a zoo layer's name -> the torchvision/timm module it comes from.

Each rule is driven by the layer names the zoo models already use
(`stage2_block0_conv1` is torchvision's `layer2.0.conv1`). timm's ResNets and
DenseNets use torchvision's names, so the same rules read both.
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


def _plus_one(group):
    return lambda m, model: m.expand(group).replace("{n}", str(int(m.group("n")) + 1))


RESNET = Rules(
    [
        (r"stem_conv", "conv1"),
        (r"stem_bn", "bn1"),
        (r"stage(\d+)_block(\d+)_(conv|bn)(\d)", r"layer\1.\2.\3\4"),
        (r"stage(\d+)_block(\d+)_downsample_conv", r"layer\1.\2.downsample.0"),
        (r"stage(\d+)_block(\d+)_downsample_bn", r"layer\1.\2.downsample.1"),
        (r"logits", "fc"),
    ],
    head=("fc.",),
)

DENSENET = Rules(
    [
        (r"stem_conv", "features.conv0"),
        (r"stem_bn", "features.norm0"),
        # torchvision numbers dense layers from 1, the zoo from 0
        (r"block(\d+)_layer(?P<n>\d+)_bn(\d)",
         _plus_one(r"features.denseblock\1.denselayer{n}.norm\3")),
        (r"block(\d+)_layer(?P<n>\d+)_conv(\d)",
         _plus_one(r"features.denseblock\1.denselayer{n}.conv\3")),
        (r"transition(\d+)_bn", r"features.transition\1.norm"),
        (r"transition(\d+)_conv", r"features.transition\1.conv"),
        (r"final_bn", "features.norm5"),
        (r"logits", "classifier"),
    ],
    head=("classifier.",),
)

GOOGLENET = Rules(
    [
        (r"(conv\d)_(conv|bn)", r"\1.\2"),
        (r"(inception\w+)_branch1_(conv|bn)", r"\1.branch1.\2"),
        (r"(inception\w+)_branch(\d)a_(conv|bn)", r"\1.branch\2.0.\3"),
        (r"(inception\w+)_branch(\d)b_(conv|bn)", r"\1.branch\2.1.\3"),
        (r"(aux\d)_conv_(conv|bn)", r"\1.conv.\2"),
        (r"(aux\d)_(fc\d)", r"\1.\2"),
        (r"logits", "fc"),
    ],
    head=("fc.", "aux1.", "aux2."),
)

ALEXNET = Rules(
    [
        (r"conv(\d)", lambda m, model: f"features.{(0, 3, 6, 8, 10)[int(m.group(1)) - 1]}"),
        (r"fc1", "classifier.1"),
        (r"fc2", "classifier.4"),
        (r"logits", "classifier.6"),
    ],
    head=("classifier.",),
    flatten_dense="fc1",
)


def _vgg_index(match, model):
    """Index in torchvision's `features`: [conv, (bn), relu] per conv, then a pool per stage."""
    stage, index, kind = int(match.group(1)), int(match.group(3)), match.group(2)
    unit = 3 if model.batch_norm else 2
    position = sum(d * unit + 1 for d in model.depths[: stage - 1]) + (index - 1) * unit
    return f"features.{position + (kind == 'bn')}"


VGG = Rules(
    [
        (r"stage(\d+)_(conv|bn)(\d+)", _vgg_index),
        (r"fc1", "classifier.0"),
        (r"fc2", "classifier.3"),
        (r"logits", "classifier.6"),
    ],
    head=("classifier.",),
    flatten_dense="fc1",
)

#: model class name -> its rules
FAMILIES = {"ResNet": RESNET, "DenseNet": DENSENET, "GoogLeNet": GOOGLENET, "AlexNet": ALEXNET,
            "VGG": VGG}

# torchvision's DenseNet files of 2017 name `denselayer1.norm.1`; its loader renames them so
_LEGACY_DENSENET = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


def normalize_key(key):
    """A source key in today's torchvision naming."""
    match = _LEGACY_DENSENET.match(key)
    return match.group(1) + match.group(2) if match else key
