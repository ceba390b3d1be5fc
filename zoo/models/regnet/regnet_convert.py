"""RegNet's conversion rules: zoo layer names -> torchvision / timm tensor names.

torchvision names block `b` of stage `s` `trunk_output.block<s>.block<s>-<b>`, its
convolutions and norms `f.a`, `f.b`, `f.c` (each `.0` the convolution, `.1` the BN), its
squeeze-excitation `f.se.fc1`/`f.se.fc2` and its projection shortcut `proj`. timm names
it `s<s>.b<b + 1>` (blocks counted from 1), `conv1`/`conv2`/`conv3` (each `.conv` and
`.bn`), `se.fc1`/`se.fc2`, `downsample`; the stem `stem.conv`/`stem.bn`, the logits
`head.fc`.
"""

from zoo.weights.convert.rules import Rules

_BLOCK = r"trunk_output.block\1.block\1-\2"

TORCHVISION = Rules(
    [
        (r"stem_conv", "stem.0"),
        (r"stem_bn", "stem.1"),
        (r"stage(\d+)_block(\d+)_([abc])_conv", _BLOCK + r".f.\3.0"),
        (r"stage(\d+)_block(\d+)_([abc])_bn", _BLOCK + r".f.\3.1"),
        (r"stage(\d+)_block(\d+)_se_(fc\d)", _BLOCK + r".f.se.\3"),
        (r"stage(\d+)_block(\d+)_proj_conv", _BLOCK + r".proj.0"),
        (r"stage(\d+)_block(\d+)_proj_bn", _BLOCK + r".proj.1"),
        (r"logits", "fc"),
    ],
    head=("fc.",),
)

_TIMM_PARTS = {"a_conv": "conv1.conv", "a_bn": "conv1.bn", "b_conv": "conv2.conv",
               "b_bn": "conv2.bn", "c_conv": "conv3.conv", "c_bn": "conv3.bn",
               "se_fc1": "se.fc1", "se_fc2": "se.fc2", "proj_conv": "downsample.conv",
               "proj_bn": "downsample.bn"}


def _timm_block(match, model):
    stage, block, part = match.group(1), int(match.group(2)), match.group(3)
    return f"s{stage}.b{block + 1}.{_TIMM_PARTS[part]}"


TIMM = Rules(
    [
        (r"stem_conv", "stem.conv"),
        (r"stem_bn", "stem.bn"),
        (r"stage(\d+)_block(\d+)_(%s)" % "|".join(_TIMM_PARTS), _timm_block),
        (r"logits", "head.fc"),
    ],
    head=("head.fc.",),
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION, "timm": TIMM}

#: the reference's modules whose outputs are the zoo model's `stage1` ... `stage4`
STAGE_MODULES = ["trunk_output.block1", "trunk_output.block2", "trunk_output.block3",
                 "trunk_output.block4"]


def stage_modules(reference):
    """The stage ends of a torchvision (`trunk_output`) or timm (`s1` ... `s4`) RegNet."""
    if hasattr(reference, "trunk_output"):
        return STAGE_MODULES
    return ["s1", "s2", "s3", "s4"]


#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = (
    "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf",
    "regnet_x_16gf", "regnet_x_32gf", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf",
    "regnet_y_3_2gf", "regnet_y_8gf", "regnet_y_16gf", "regnet_y_32gf",
)

#: timm architectures the zoo names otherwise: {timm name: (zoo name, zoo arguments)}.
#: timm's `regnety_032` is torchvision's `regnet_y_3_2gf` (the same generator parameters
#: w_0=80, w_a=42.63, w_m=2.66, depth 21, group width 24, SE 0.25: equal widths, depths
#: and parameter count, 19,436,338; a parity test holds the functions equal)
TIMM_MODELS = {"regnety_032": ("regnet_y_3_2gf", {})}

#: timm checkpoints better than torchvision's for the same architecture: {timm name:
#: (None, None, top1, top5)}: the file is the GitHub release timm's config names, whose name
#: states its sha256 prefix; top1/top5: timm's results-imagenet.csv at the test size
#: (torchvision's regnet_y_3_2gf: 81.982 top-1)
TIMM_WEIGHTS = {"regnety_032.ra_in1k": (None, None, 82.728, 96.416)}
#: what timm's recipe tags mean (the entries' training_command)
TIMM_RECIPE = "ra: timm's RandAugment recipe (pytorch-image-models training scripts)"


def torchvision_reference(models, name, device=None, **kwargs):
    """torchvision's `name` with random weights on `device`: its builder computes the stage
    widths with tensors, which torch's meta device cannot read back, so they are computed
    on the CPU and only the modules are built on `device`."""
    import torch

    block_params = models.regnet.BlockParams
    original = block_params.from_init_params

    def on_cpu(*args, **kw):
        with torch.device("cpu"):
            return original(*args, **kw)

    block_params.from_init_params = on_cpu
    try:
        with torch.device(device or "cpu"):
            return getattr(models, name)(weights=None, **kwargs)
    finally:
        block_params.from_init_params = original
