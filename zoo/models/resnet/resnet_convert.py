"""ResNet's conversion rules: zoo layer names -> torchvision / timm tensor names.

`stage2_block0_conv1` is torchvision's `layer2.0.conv1`; timm's ResNets name every
tensor as torchvision does, so both sources read with the same rules.
"""

from zoo.weights.convert.rules import Rules

TORCHVISION = Rules(
    [
        (r"stem_conv", "conv1"),
        (r"stem_bn", "bn1"),
        (r"stage(\d+)_block(\d+)_(conv|bn)(\d)", r"layer\1.\2.\3\4"),
        (r"stage(\d+)_block(\d+)_downsample_conv", r"layer\1.\2.downsample.0"),
        (r"stage(\d+)_block(\d+)_downsample_bn", r"layer\1.\2.downsample.1"),
        (r"logits", "fc"),
    ],
    head=("fc.",),
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION, "timm": TORCHVISION}

#: the reference's modules whose outputs are the zoo model's `stage1` ... `stage4`
STAGE_MODULES = ["layer1", "layer2", "layer3", "layer4"]

#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
                       "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
                       "wide_resnet50_2", "wide_resnet101_2")

#: timm checkpoints better than torchvision's for the same architecture: {timm name:
#: (Hugging Face revision, sha256 of model.safetensors, top1, top5)} where the full sha256
#: is public (the "Git LFS Details" of the file's page at that revision,
#: https://huggingface.co/timm/<name>/blob/<revision>/model.safetensors), or (None, None,
#: top1, top5): the GitHub release file timm's config names, whose name states its sha256
#: prefix. top1/top5: timm's results-imagenet.csv, at the test size of the config.
TIMM_WEIGHTS = {
    "resnet18.a1_in1k": ("ebd61f9c7420e5b5b53262b8ce6bbe311e1e872a",
                         "80c49dee3da4822c009c5a7fe591e9223c5a2cfcf95a4067ca4dfb5a7b89c612",
                         73.158, 91.026),
    "resnet50.a1_in1k": ("5d9e13b8fdab4d9718bcf2c8f5c3af01878367e8",
                         "773525d5821de224f8f30c33377b7a795d7863e08522698200d3217d3f2a41bb",
                         81.214, 95.102),
    "resnet101.a1h_in1k": ("21721ac354aff8c4fbc371f3c4e46fa8832d4d68",
                           "1a076c0384295e7d3704f201c5711ff245507db934230bab72ff3014a95f90fe",
                           82.778, 96.310),
    # torchvision's resnext50_32x4d (IMAGENET1K_V2): 81.198 top-1
    "resnext50_32x4d.a1h_in1k": (None, None, 82.014, 95.934),
}
#: what timm's recipe tags mean (the entries' training_command)
TIMM_RECIPE = "ResNet strikes back, arXiv:2110.00476"
