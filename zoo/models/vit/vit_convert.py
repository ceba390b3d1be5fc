"""The vision transformers' conversion rules: zoo layer names -> torchvision / timm tensors.

`block3_query` is the first third of torchvision's
`encoder.layers.encoder_layer_3.self_attention.in_proj_weight` (torch fuses the
query, key and value projections) and of timm's `blocks.3.attn.qkv.weight`; the
class token, distillation token, register tokens and position embeddings of the
zoo's `tokens` layer are torchvision's `class_token` / `encoder.pos_embedding` and
timm's `cls_token` / `dist_token` / `reg_token` / `pos_embed`.
"""

from zoo.weights.convert.rules import Rules, Source

_QKV = {"query": 0, "key": 1, "value": 2}


def _torchvision_qkv(match, model):
    module = f"encoder.layers.encoder_layer_{match.group(1)}.self_attention"
    return Source(names={"kernel": f"{module}.in_proj_weight",
                         "bias": f"{module}.in_proj_bias"}, part=(_QKV[match.group(2)], 3))


def _timm_qkv(match, model):
    return Source(f"blocks.{match.group(1)}.attn.qkv", part=(_QKV[match.group(2)], 3))


def _timm_layer_scale(match, model):
    return Source(names={"gamma": f"blocks.{match.group(1)}.ls{match.group(2)}.gamma"})


_TV_BLOCK = r"encoder.layers.encoder_layer_\1"

TORCHVISION = Rules(
    [
        (r"patch_embed", "conv_proj"),
        (r"patch_embed_stem(\d+)_conv", r"conv_proj.conv_bn_relu_\1.0"),
        (r"patch_embed_stem(\d+)_bn", r"conv_proj.conv_bn_relu_\1.1"),
        (r"patch_embed_last", "conv_proj.conv_last"),
        (r"tokens", Source(names={"class_token": "class_token",
                                  "position_embedding": "encoder.pos_embedding"})),
        (r"block(\d+)_norm(\d)", _TV_BLOCK + r".ln_\2"),
        (r"block(\d+)_(query|key|value)", _torchvision_qkv),
        (r"block(\d+)_proj", _TV_BLOCK + ".self_attention.out_proj"),
        (r"block(\d+)_fc1", _TV_BLOCK + ".mlp.0"),
        (r"block(\d+)_fc2", _TV_BLOCK + ".mlp.3"),
        (r"norm", "encoder.ln"),
        (r"logits", "heads.head"),
    ],
    head=("heads.",),
)

TIMM = Rules(
    [
        (r"patch_embed", "patch_embed.proj"),
        (r"tokens", Source(names={"class_token": "cls_token", "distillation_token": "dist_token",
                                  "register_tokens": "reg_token",
                                  "position_embedding": "pos_embed"})),
        (r"block(\d+)_norm(\d)", r"blocks.\1.norm\2"),
        (r"block(\d+)_(query|key|value)", _timm_qkv),
        (r"block(\d+)_proj", r"blocks.\1.attn.proj"),
        (r"block(\d+)_ls(\d)", _timm_layer_scale),
        (r"block(\d+)_fc(\d)", r"blocks.\1.mlp.fc\2"),
        (r"norm", "norm"),
        (r"logits", "head"),
        (r"logits_dist", "head_dist"),
    ],
    head=("head.", "head_dist."),
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION, "timm": TIMM}


def normalize_key(key):
    """torchvision's published ViT files name the MLP's layers `linear_1`/`linear_2` (its
    `MLPBlock` before version 2, which renames them on loading as this does)."""
    return key.replace(".mlp.linear_1.", ".mlp.0.").replace(".mlp.linear_2.", ".mlp.3.")


def stage_modules(reference):
    """The reference's encoder blocks (the zoo's `stage1` ... `stageN`)."""
    blocks = getattr(reference, "blocks", None)
    if blocks is None:
        return [f"encoder.layers.encoder_layer_{i}" for i in range(len(reference.encoder.layers))]
    return [f"blocks.{i}" for i in range(len(blocks))]


#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights; for
#: vit_h_14 the SWAG end-to-end fine-tuned ones, at 518x518)
TORCHVISION_WEIGHTS = ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14")


def torchvision_arguments(name):
    """torchvision's builder arguments for the reference of `name`'s published weights:
    vit_h_14's DEFAULT weights are laid out for 518x518 images."""
    return {"image_size": 518} if name == "vit_h_14" else {}


def entry_arguments(name):
    """The zoo arguments of the model `name`'s published file fits: vit_h_14's DEFAULT
    (SWAG, end-to-end fine-tuned) weights are laid out for 518x518 images."""
    if name == "vit_h_14":
        return {"input_shape": (518, 518, 3), "position_size": (518, 518)}
    return {}


_DEIT = "the DeiT authors, https://github.com/facebookresearch/deit (README, model zoo)"
#: timm configs whose file is the DeiT authors' torch.hub checkpoint (timm's `url`, the sha256
#: prefix in its name, a {"model": state dict} in timm's tensor names):
#: {timm name: (top1, top5, who published them)}, the accuracies of the cited README
TIMM_ORIGINAL_WEIGHTS = {
    "deit_tiny_patch16_224.fb_in1k": (72.2, 91.1, _DEIT),
    "deit_small_patch16_224.fb_in1k": (79.9, 95.0, _DEIT),
    "deit_base_patch16_224.fb_in1k": (81.8, 95.6, _DEIT),
    "deit_tiny_distilled_patch16_224.fb_in1k": (74.5, 91.9, _DEIT),
    "deit_small_distilled_patch16_224.fb_in1k": (81.2, 95.4, _DEIT),
    "deit_base_distilled_patch16_224.fb_in1k": (83.4, 96.5, _DEIT),
}


_DINOV2 = ("the DINOv2 authors, https://github.com/facebookresearch/dinov2 (README, pretrained "
           "models: ImageNet-1k top-1 of k-NN and of a linear classifier on the frozen features)")
_LVD = ("LVD-142M: the 142M images the DINOv2 authors curated from web data (the paper); "
        "not released, no terms published")
#: feature backbones (no classifier) whose files are timm's Hugging Face copies of the
#: authors' weights: {timm name: (revision, sha256, size in bytes, published metrics, who
#: published them, dataset, its licence)}. The sha256 and size of each model.safetensors
#: are those of its Git LFS object on the hub; the hub cannot be reached from here, so
#: they are copied from the public projects that pin the file at that revision (the
#: same digest in several independent ones, e.g. vit_small: 04d27f34... in five).
#: A row without a revision is the authors' own file, timm's `url` for the config (DINOv2's
#: torch.hub checkpoint, in the authors' layout: see `normalize_state`), pinned by its full
#: sha256 and size. vit_small_patch14_reg4_dinov2's: 88,291,785 bytes, sha256 f4331770...,
#: the same identity in the public projects that pin the file (e.g. six read 2026-12-07,
#: which check it before loading); no public page states the digest of timm's Hugging Face
#: copy. Its metrics: the authors' README (facebookresearch/dinov2 at 04b91003), ViT-S/14
#: with registers.
TIMM_BACKBONE_WEIGHTS = {
    "vit_small_patch14_dinov2.lvd142m": (
        "4610ca143709d58a633b6397a74412c2c3842454",
        "04d27f3400d059fc0cfd7d17dd1909a75bf3ea8fb3eeb48b97cb99e57ee20081", 88_240_510,
        {"knn_top1": 79.0, "linear_top1": 81.1}, _DINOV2, "lvd-142m", _LVD),
    "vit_base_patch14_dinov2.lvd142m": (
        "4685c99dabffe5affac90bd99dbffd25801ae58d",
        "55cbb5d887b336d430e649c277b85a1429e724871f9d02ac16203235886d8c7b", 346_334_872,
        {"knn_top1": 82.1, "linear_top1": 84.5}, _DINOV2, "lvd-142m", _LVD),
    "vit_large_patch14_dinov2.lvd142m": (
        "4741e1cafbf45415e77074bb0cb42dba76c8684a",
        "0424a5d1b515278cba3c6640ccbeaacc41de59d3a93df0dd5e494285eea2b355", 1_217_502_758,
        {"knn_top1": 83.5, "linear_top1": 86.3}, _DINOV2, "lvd-142m", _LVD),
    "vit_small_patch14_reg4_dinov2.lvd142m": (
        None, "f433177089a681826f849f194ece3bb48f4d63fb38d32fc837e3dc7a4e5641fb", 88_291_785,
        {"knn_top1": 79.1, "linear_top1": 80.9}, _DINOV2, "lvd-142m", _LVD),
}


def normalize_state(tensors):
    """The DINOv2 authors' files in timm's layout, as timm's checkpoint filter reads them:
    the mask token (pretraining only) dropped; with registers, `register_tokens` is timm's
    `reg_token` and the class token's position embedding (the first of `pos_embed`) is folded
    into the token, since timm adds positions to the patches alone (`no_embed_class`)."""
    if "mask_token" not in tensors:
        return tensors
    tensors.pop("mask_token")
    if "register_tokens" in tensors:
        tensors["reg_token"] = tensors.pop("register_tokens")
        positions = tensors.pop("pos_embed")
        tensors["cls_token"] = tensors["cls_token"] + positions[:, :1]
        tensors["pos_embed"] = positions[:, 1:]
    return tensors
