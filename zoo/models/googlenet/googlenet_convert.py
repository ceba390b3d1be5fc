"""GoogLeNet's conversion rules: zoo layer names -> torchvision tensor names."""

from zoo.weights.convert.rules import Rules

TORCHVISION = Rules(
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

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION}

#: the reference's modules whose outputs are the zoo model's stages
STAGE_MODULES = ["conv3", "inception3b", "inception4e", "inception5b"]

#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = ("googlenet",)

#: how torchvision's builder is called for a reference with random weights: without the
#: auxiliary heads (the zoo's default) and without torchvision's own initialisation
TORCHVISION_ARGUMENTS = {"aux_logits": False, "init_weights": False}

#: torchvision builds googlenet with transform_input=True for its weights: it maps
#: ImageNet-normalized inputs to (x - 0.5) / 0.5, which the zoo's preprocessing does directly
IMAGENET_TRANSFORM = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
IMAGENET_TRANSFORM_NOTE = (" (torchvision's googlenet applies transform_input=True with these "
                           "weights: the same as mean = std = 0.5.)")
