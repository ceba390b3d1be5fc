"""AlexNet's conversion rules: zoo layer names -> torchvision tensor names."""

from zoo.weights.convert.rules import Rules

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


def stage_modules(reference):
    """The reference's modules whose outputs are the zoo model's stages: its max-pools."""
    import torch

    return [f"features.{i}" for i, m in enumerate(reference.features)
            if isinstance(m, torch.nn.MaxPool2d)]
