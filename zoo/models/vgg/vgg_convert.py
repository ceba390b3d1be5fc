"""VGG's conversion rules: zoo layer names -> torchvision tensor names."""

from zoo.weights.convert.rules import Rules, max_pool_stage_modules


def _vgg_index(match, model):
    """Index in torchvision's `features`: [conv, (bn), relu] per conv, then a pool per stage."""
    stage, index, kind = int(match.group(1)), int(match.group(3)), match.group(2)
    unit = 3 if model.batch_norm else 2
    position = sum(d * unit + 1 for d in model.depths[: stage - 1]) + (index - 1) * unit
    return f"features.{position + (kind == 'bn')}"


TORCHVISION = Rules(
    [
        (r"stage(\d+)_(conv|bn)(\d+)", _vgg_index),
        (r"fc1", "classifier.0"),
        (r"fc2", "classifier.3"),
        (r"logits", "classifier.6"),
    ],
    head=("classifier.",),
    flatten_dense="fc1",
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION}

#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = ("vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
                       "vgg19_bn")


#: the reference's modules whose outputs are the zoo model's stages: its max-pools
stage_modules = max_pool_stage_modules
