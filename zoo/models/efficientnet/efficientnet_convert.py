"""EfficientNet's conversion rules: zoo layer names -> torchvision / timm tensor names.

The zoo names a block by its stage (torchvision's `features` index) and its place in it:
`block2_1_dwconv` is torchvision's `features.2.1.block.1.0` and timm's
`blocks.1.1.conv_dw`. Where a module sits inside a block depends on whether the block
expands (MBConv) and on its type (fused MBConv).
"""

from zoo.weights.convert.rules import Rules, stage_ends

_BLOCK = r"block(\d+)_(\d+)_(expand|dw|se|project)_?(conv|bn|reduce|expand)?"


def _layers(model):
    return {layer.name for layer in model.layers}


def _block(match, model):
    """(stage, index, part, kind, expands, fused) of a block layer's name."""
    stage, index, part, kind = match.groups()
    expands = f"block{stage}_{index}_expand_conv" in _layers(model)
    fused = model.block_types[int(stage) - 1] == "fused"
    return int(stage), int(index), part, kind, expands, fused


def _torchvision_block(match, model):
    stage, index, part, kind, expands, fused = _block(match, model)
    e = int(expands)
    conv_bn = {"conv": "0", "bn": "1"}.get(kind)
    if part == "se":
        where = f"{e + 1}.{'fc1' if kind == 'reduce' else 'fc2'}"
    elif fused:  # [kxk expansion], projection (kxk with the activation when it does not expand)
        where = f"{0 if part == 'expand' else e}.{conv_bn}"
    else:  # [expansion], depthwise, squeeze-excitation, projection
        where = f"{ {'expand': 0, 'dw': e, 'project': e + 2}[part]}.{conv_bn}"
    return f"features.{stage}.{index}.block.{where}"


TORCHVISION = Rules(
    [
        (r"stem_conv", "features.0.0"),
        (r"stem_bn", "features.0.1"),
        (_BLOCK, _torchvision_block),
        (r"last_conv", lambda m, model: f"features.{len(model.filters) + 1}.0"),
        (r"last_bn", lambda m, model: f"features.{len(model.filters) + 1}.1"),
        (r"logits", "classifier.1"),
    ],
    head=("classifier.",),
)

# timm's blocks: DepthwiseSeparableConv (MBConv without expansion), InvertedResidual
# (MBConv), EdgeResidual (fused MBConv), ConvBnAct (fused MBConv without expansion)
_TIMM = {
    ("mbconv", False): {"dw_conv": "conv_dw", "dw_bn": "bn1", "project_conv": "conv_pw",
                        "project_bn": "bn2"},
    ("mbconv", True): {"expand_conv": "conv_pw", "expand_bn": "bn1", "dw_conv": "conv_dw",
                       "dw_bn": "bn2", "project_conv": "conv_pwl", "project_bn": "bn3"},
    ("fused", True): {"expand_conv": "conv_exp", "expand_bn": "bn1", "project_conv": "conv_pwl",
                      "project_bn": "bn2"},
    ("fused", False): {"project_conv": "conv", "project_bn": "bn1"},
}


def _timm_block(match, model):
    stage, index, part, kind, expands, fused = _block(match, model)
    prefix = f"blocks.{stage - 1}.{index}"
    if part == "se":
        return f"{prefix}.se.conv_{kind}"
    return f"{prefix}.{_TIMM['fused' if fused else 'mbconv', expands][f'{part}_{kind}']}"


TIMM = Rules(
    [
        (r"stem_conv", "conv_stem"),
        (r"stem_bn", "bn1"),
        (_BLOCK, _timm_block),
        (r"last_conv", "conv_head"),
        (r"last_bn", "bn2"),
        (r"logits", "classifier"),
    ],
    head=("classifier.",),
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION, "timm": TIMM}


def stage_modules(reference):
    """The reference's modules whose outputs are the zoo's stages: each one before a stage
    that halves the resolution, and the last one (torchvision: `features.i`; timm: `bn1`,
    the stem with its activation, `blocks.i`, `bn2`)."""
    if hasattr(reference, "features"):
        sequence = [(f"features.{n}", m) for n, m in reference.features.named_children()]
    else:
        sequence = [("bn1", reference.bn1)]
        sequence += [(f"blocks.{n}", m) for n, m in reference.blocks.named_children()]
        sequence.append(("bn2", reference.bn2))
    return stage_ends(sequence)


#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = tuple(f"efficientnet_b{i}" for i in range(8)) + (
    "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l")

#: timm checkpoints of torchvision's architecture: {timm name: (None, None, top1, top5)}: the
#: file is the GitHub release timm's config names, whose name states its sha256 prefix;
#: top1/top5: timm's results-imagenet.csv at the test size. B0's is the checkpoint
#: torchvision's B0 was ported from; B3's and B4's beat torchvision's.
TIMM_WEIGHTS = {
    "efficientnet_b0.ra_in1k": (None, None, 77.694, 93.532),
    "efficientnet_b3.ra2_in1k": (None, None, 82.242, 96.118),
    "efficientnet_b4.ra2_in1k": (None, None, 83.414, 96.598),
}
#: what timm's recipe tags mean (the entries' training_command)
TIMM_RECIPE = "ra/ra2: timm's RandAugment recipes (pytorch-image-models training scripts)"
