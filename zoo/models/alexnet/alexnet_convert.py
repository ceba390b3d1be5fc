"""AlexNet's conversion rules: zoo layer names -> torchvision tensor names."""

from zoo.weights.convert.rules import Rules, max_pool_stage_modules

TORCHVISION = Rules(
    [
        (r"conv(\d)", lambda m, model: f"features.{(0, 3, 6, 8, 10)[int(m.group(1)) - 1]}"),
        (r"fc1", "classifier.1"),
        (r"fc2", "classifier.4"),
        (r"logits", "classifier.6"),
    ],
    head=("classifier.",),
    flatten_dense="fc1",
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION}

#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = ("alexnet",)


#: the reference's modules whose outputs are the zoo model's stages: its max-pools
stage_modules = max_pool_stage_modules
