"""Inception v3's conversion rules: zoo layer names -> torchvision tensor names.

The zoo names its layers after torchvision's modules: `Mixed_6b_branch7x7_2_conv` is
`Mixed_6b.branch7x7_2.conv`; the auxiliary head (`aux_*`) is torchvision's `AuxLogits`.
"""

from zoo.weights.convert.rules import Rules

TORCHVISION = Rules(
    [
        (r"(Conv2d_\d\w_\dx\d)_(conv|bn)", r"\1.\2"),
        (r"(Mixed_\d\w)_(branch\w+)_(conv|bn)", r"\1.\2.\3"),
        (r"aux_(conv\d)_(conv|bn)", r"AuxLogits.\1.\2"),
        (r"aux_logits", "AuxLogits.fc"),
        (r"logits", "fc"),
    ],
    head=("fc.", "AuxLogits."),
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION}

#: the reference's modules whose outputs are the zoo model's `stage1` ... `stage5`
STAGE_MODULES = ["Conv2d_2b_3x3", "Conv2d_4a_3x3", "Mixed_5d", "Mixed_6e", "Mixed_7c"]

#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = ("inception_v3",)

#: how torchvision's builder is called for a reference with random weights: without the
#: auxiliary head (the zoo's default) and without torchvision's slow initialisation
TORCHVISION_ARGUMENTS = {"aux_logits": False, "init_weights": False}

#: torchvision's inception_v3 weights come with transform_input=True: ImageNet-normalized
#: inputs are mapped to (pixels - 0.5) / 0.5, i.e. a normalization with mean = std = 0.5
IMAGENET_TRANSFORM = {"mean": [0.5] * 3, "std": [0.5] * 3}
IMAGENET_TRANSFORM_NOTE = (" (torchvision builds inception_v3 with transform_input=True for "
                           "these weights, which equals mean = std = 0.5.)")
