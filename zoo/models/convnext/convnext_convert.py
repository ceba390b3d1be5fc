"""ConvNeXt's conversion rules: zoo layer names -> torchvision / timm tensor names.

torchvision keeps the network in one `features` sequence (stem 0, stages 1, 3, 5, 7,
downsamplings 2, 4, 6; a block's layers in `block.0` ... `block.5`); timm in `stem`,
`stages.S.downsample` and `stages.S.blocks.B`. The layer scale is a parameter of the
block itself (torchvision's `layer_scale`, shape (C, 1, 1); timm's `gamma`).
"""

from zoo.weights.convert.rules import Rules


def _tv_stage(m, offset):
    """torchvision's module of stage `m.group(1)`: its blocks `features.<2s - 1>`, its
    downsampling (`offset=-1`) `features.<2s - 2>`."""
    return f"features.{2 * int(m.group(1)) - 1 + offset}"


def _tv_block(part):
    """A template naming part `part` of torchvision's block (`features.<2s - 1>.<b>`)."""
    return lambda m, model: f"{_tv_stage(m, 0)}.{m.group(2)}.{part}"


TORCHVISION = Rules(
    [
        (r"stem_conv", "features.0.0"),
        (r"stem_norm", "features.0.1"),
        (r"stage(\d+)_downsample_norm", lambda m, model: f"{_tv_stage(m, -1)}.0"),
        (r"stage(\d+)_downsample_conv", lambda m, model: f"{_tv_stage(m, -1)}.1"),
        (r"stage(\d+)_block(\d+)_layer_scale/gamma", _tv_block("layer_scale")),
        (r"stage(\d+)_block(\d+)_dwconv", _tv_block("block.0")),
        (r"stage(\d+)_block(\d+)_norm", _tv_block("block.2")),
        (r"stage(\d+)_block(\d+)_pwconv1", _tv_block("block.3")),
        (r"stage(\d+)_block(\d+)_pwconv2", _tv_block("block.5")),
        (r"head_norm", "classifier.0"),
        (r"logits", "classifier.2"),
    ],
    head=("classifier.",),
)


def _timm_stage(m):
    return f"stages.{int(m.group(1)) - 1}"


TIMM = Rules(
    [
        (r"stem_conv", "stem.0"),
        (r"stem_norm", "stem.1"),
        (r"stage(\d+)_downsample_norm", lambda m, model: f"{_timm_stage(m)}.downsample.0"),
        (r"stage(\d+)_downsample_conv", lambda m, model: f"{_timm_stage(m)}.downsample.1"),
        (r"stage(\d+)_block(\d+)_layer_scale/gamma",
         lambda m, model: f"{_timm_stage(m)}.blocks.{m.group(2)}.gamma"),
        (r"stage(\d+)_block(\d+)_dwconv",
         lambda m, model: f"{_timm_stage(m)}.blocks.{m.group(2)}.conv_dw"),
        (r"stage(\d+)_block(\d+)_norm",
         lambda m, model: f"{_timm_stage(m)}.blocks.{m.group(2)}.norm"),
        (r"stage(\d+)_block(\d+)_pwconv(\d)",
         lambda m, model: f"{_timm_stage(m)}.blocks.{m.group(2)}.mlp.fc{m.group(3)}"),
        (r"head_norm", "head.norm"),
        (r"logits", "head.fc"),
    ],
    head=("head.",),
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION, "timm": TIMM}


def stage_modules(reference):
    """The reference's modules whose outputs are the zoo model's `stage1` ... `stage4`."""
    if hasattr(reference, "features"):  # torchvision
        return ["features.1", "features.3", "features.5", "features.7"]
    return [f"stages.{i}" for i in range(len(reference.stages))]


#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = ("convnext_tiny", "convnext_small", "convnext_base", "convnext_large")

#: timm checkpoints better than torchvision's for the same architecture: {timm name:
#: (Hugging Face revision, sha256, top1, top5, options)}. The sha256 is the "Git LFS
#: Details" of https://huggingface.co/timm/convnext_tiny.fb_in22k_ft_in1k/blob/
#: 9652db768d961382dea070578e6e38d85e44ff7b/pytorch_model.bin (timm's tensor names, a torch
#: state dict). timm's results-imagenet.csv has no row for it; its model card's "Model
#: Comparison" table does, at 224x224 (the authors' README: 82.9; torchvision's: 82.52).
TIMM_WEIGHTS = {
    "convnext_tiny.fb_in22k_ft_in1k": (
        "9652db768d961382dea070578e6e38d85e44ff7b",
        "8cb65dc650a7fb25eaadbff3eb69559d02f83cdc5afdfb3785d1889cdc3e3518", 82.898, 96.616,
        {"file": "pytorch_model.bin", "test_size": False,
         "published_by": "timm, the Model Comparison table of its ConvNeXt model cards "
                         "(https://huggingface.co/timm/convnext_tiny.fb_in22k_ft_in1k)"}),
}
#: what timm's recipe tags mean (the entries' training_command)
TIMM_RECIPE = ("the authors' recipe: ImageNet-22k pretraining, then "
               "ImageNet-1k fine-tuning, arXiv:2201.03545")
