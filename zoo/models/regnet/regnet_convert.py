"""RegNet's conversion rules: zoo layer names -> torchvision tensor names.

torchvision names block `b` of stage `s` `trunk_output.block<s>.block<s>-<b>`, its
convolutions and norms `f.a`, `f.b`, `f.c` (each `.0` the convolution, `.1` the BN), its
squeeze-excitation `f.se.fc1`/`f.se.fc2` and its projection shortcut `proj`.
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

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION}

#: the reference's modules whose outputs are the zoo model's `stage1` ... `stage4`
STAGE_MODULES = ["trunk_output.block1", "trunk_output.block2", "trunk_output.block3",
                 "trunk_output.block4"]

#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = (
    "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf",
    "regnet_x_16gf", "regnet_x_32gf", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf",
    "regnet_y_3_2gf", "regnet_y_8gf", "regnet_y_16gf", "regnet_y_32gf",
)


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
