"""MobileNet's conversion rules: zoo layer names -> torchvision / timm tensor names.

The zoo numbers the blocks as torchvision's `features` does (`block3_dwconv` is
`features.3.conv.1.0` in MobileNetV2, `features.3.block.1.0` in MobileNetV3); where a
module sits inside a block depends on whether the block expands and has squeeze-excitation.
timm (`mobilenetv3_large_100`, `mobilenetv2_100`) groups the blocks by width
(`blocks.1.0`, `blocks.1.1`, ...) and names the layers inside (`conv_pw`, `conv_dw`,
`se.conv_reduce`, `conv_pwl`).
"""

import math
import re

from zoo.weights.convert.rules import Rules, stage_ends

_BLOCK = re.compile(r"block(\d+)_(expand|dw|se|project)_?(conv|bn|reduce|expand)?")


def _layers(model):
    return {layer.name for layer in model.layers}


def _is_v3(model):
    return type(model).__name__ == "MobileNetV3"


def _num_blocks(model):
    return max(int(m.group(1)) for m in map(_BLOCK.fullmatch, _layers(model)) if m)


def _parts(model, index):
    """(has an expansion, has squeeze-excitation) of block `index`."""
    names = _layers(model)
    return f"block{index}_expand_conv" in names, f"block{index}_se_reduce" in names


def _torchvision_block(match, model):
    index, part, kind = int(match.group(1)), match.group(2), match.group(3)
    expand, se = _parts(model, index)
    e = int(expand)
    conv_bn = {"conv": "0", "bn": "1"}
    if not _is_v3(model):  # features.i.conv: [expand], dw, project conv, project bn
        where = {"expand": f"0.{conv_bn[kind]}", "dw": f"{e}.{conv_bn[kind]}",
                 "project": str(e + 1 + (kind == "bn"))}[part]
        return f"features.{index}.conv.{where}"
    where = {"expand": f"0.{conv_bn.get(kind)}", "dw": f"{e}.{conv_bn.get(kind)}",
             "se": f"{e + 1}.{'fc1' if kind == 'reduce' else 'fc2'}",
             "project": f"{e + 1 + se}.{conv_bn.get(kind)}"}[part]
    return f"features.{index}.block.{where}"


def _last(match, model):
    return f"features.{_num_blocks(model) + 1}.{'0' if match.group(1) == 'conv' else '1'}"


TORCHVISION = Rules(
    [
        (r"stem_conv", "features.0.0"),
        (r"stem_bn", "features.0.1"),
        (_BLOCK.pattern, _torchvision_block),
        (r"last_(conv|bn)", _last),
        (r"fc1", "classifier.0"),  # MobileNetV3's hidden layer
        (r"logits", lambda m, model: "classifier.3" if _is_v3(model) else "classifier.1"),
    ],
    head=("classifier.",),
)


def _groups(model):
    """({block index (from 1): timm's (group, position)}, number of groups).

    MobileNetV2: the table's groups. MobileNetV3: timm's architecture strings group the
    consecutive rows of the paper's table of equal output width."""
    if _is_v3(model):
        sizes, width = [], None
        for f in model.filters:
            if f == width:
                sizes[-1] += 1
            else:
                sizes.append(1)
            width = f
    else:
        sizes = [math.ceil(d * model.depth_multiplier) for d in model.depths]
    place = {}
    for group, size in enumerate(sizes):
        for position in range(size):
            place[len(place) + 1] = (group, position)
    return place, len(sizes)


_TIMM_DS = {"dw_conv": "conv_dw", "dw_bn": "bn1", "project_conv": "conv_pw",
            "project_bn": "bn2"}
_TIMM_IR = {"expand_conv": "conv_pw", "expand_bn": "bn1", "dw_conv": "conv_dw",
            "dw_bn": "bn2", "project_conv": "conv_pwl", "project_bn": "bn3"}


def _timm_block(match, model):
    index, part, kind = int(match.group(1)), match.group(2), match.group(3)
    group, position = _groups(model)[0][index]
    prefix = f"blocks.{group}.{position}"
    if part == "se":
        return f"{prefix}.se.conv_{kind}"
    names = _TIMM_IR if _parts(model, index)[0] else _TIMM_DS  # depthwise-separable
    return f"{prefix}.{names[f'{part}_{kind}']}"


def _timm_last(match, model):
    if not _is_v3(model):  # MobileNetV2: timm's head convolution, before the pooling
        return "conv_head" if match.group(1) == "conv" else "bn2"
    return f"blocks.{_groups(model)[1]}.0.{'conv' if match.group(1) == 'conv' else 'bn1'}"


TIMM = Rules(
    [
        (r"stem_conv", "conv_stem"),
        (r"stem_bn", "bn1"),
        (_BLOCK.pattern, _timm_block),
        (r"last_(conv|bn)", _timm_last),
        (r"fc1", "conv_head"),  # a 1x1 convolution of the pooled features in timm
        (r"logits", "classifier"),
    ],
    head=("conv_head.", "classifier."),
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION, "timm": TIMM}


def stage_modules(reference):
    """The reference's modules whose outputs are the zoo's stages: each one before a module
    that halves the resolution, and the last one (torchvision: `features.i`; timm: `bn1`
    (the stem, with its activation), `blocks.g`, `bn2`)."""
    if hasattr(reference, "features"):
        sequence = [(f"features.{n}", m) for n, m in reference.features.named_children()]
    else:
        sequence = [("bn1", reference.bn1)]
        sequence += [(f"blocks.{n}", m) for n, m in reference.blocks.named_children()]
        if hasattr(reference, "bn2"):
            sequence.append(("bn2", reference.bn2))
    return stage_ends(sequence)


#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")

#: timm architectures the zoo names otherwise: {timm name: (zoo name, zoo arguments)}.
#: timm's MobileNetV3s keep torch's default BatchNorm (eps 1e-5, momentum 0.1), where
#: torchvision's use eps 1e-3, momentum 0.01; the rest of the architecture is the same.
TIMM_MODELS = {
    "mobilenetv3_large_100": ("mobilenet_v3_large", {"bn_epsilon": 1e-5, "bn_momentum": 0.9}),
    "mobilenetv2_100": ("mobilenet_v2", {}),
}

#: timm checkpoints better than torchvision's for the same architecture: {timm name:
#: (None, None, top1, top5)}: the file is the GitHub release timm's config names, whose name
#: states its sha256 prefix; top1/top5: timm's results-imagenet.csv at the test size.
TIMM_WEIGHTS = {
    "mobilenetv3_large_100.ra_in1k": (None, None, 75.766, 92.538),
    "mobilenetv3_large_100.miil_in21k_ft_in1k": (None, None, 77.918, 92.914),
    "mobilenetv2_100.ra_in1k": (None, None, 72.976, 91.010),
}
#: what timm's recipe tags mean (the entries' training_command)
TIMM_RECIPE = ("ra: timm's RandAugment recipe; miil: ImageNet-21K pretraining, then "
               "ImageNet-1k, arXiv:2104.10972")
