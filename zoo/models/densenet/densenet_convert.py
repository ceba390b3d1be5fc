"""DenseNet's conversion rules: zoo layer names -> torchvision / timm tensor names.

timm's DenseNets name every tensor as torchvision does, so both sources read with the
same rules.
"""

import re

from zoo.weights.convert.rules import Rules, plus_one

TORCHVISION = Rules(
    [
        (r"stem_conv", "features.conv0"),
        (r"stem_bn", "features.norm0"),
        # torchvision numbers dense layers from 1, the zoo from 0
        (r"block(\d+)_layer(?P<n>\d+)_bn(\d)",
         plus_one(r"features.denseblock\1.denselayer{n}.norm\3")),
        (r"block(\d+)_layer(?P<n>\d+)_conv(\d)",
         plus_one(r"features.denseblock\1.denselayer{n}.conv\3")),
        (r"transition(\d+)_bn", r"features.transition\1.norm"),
        (r"transition(\d+)_conv", r"features.transition\1.conv"),
        (r"final_bn", "features.norm5"),
        (r"logits", "classifier"),
    ],
    head=("classifier.",),
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION, "timm": TORCHVISION}

#: the reference's modules whose outputs are the zoo model's stages
STAGE_MODULES = ["features.denseblock1", "features.denseblock2", "features.denseblock3",
                 "features.norm5"]

#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = ("densenet121", "densenet161", "densenet169", "densenet201")

# torchvision's DenseNet files of 2017 name `denselayer1.norm.1`; its loader renames them so
_LEGACY_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


def normalize_key(key):
    """A source key in today's torchvision naming."""
    match = _LEGACY_KEY.match(key)
    return match.group(1) + match.group(2) if match else key


def reference_stage(name, output):
    """The reference's output of module `name` as the zoo's stage output."""
    if name == "features.norm5":
        import torch

        return torch.relu(output)  # DenseNet.forward applies it after the features
    return output
