"""Swin's conversion rules: zoo layer names -> torchvision tensor names.

torchvision's `features` interleaves the stages and the patch mergings:
`features.0` is the patch embedding (`0` the convolution, `2` the LayerNorm),
`features.1`, `.3`, `.5`, `.7` the stages' blocks and `.2`, `.4`, `.6` the mergings
that start stages 2-4. `stage2_block0_attn_qkv` is `features.3.0.attn.qkv`;
the attention layer `stage2_block0_attn` holds the module's own tensors
(`relative_position_bias_table`, V2's `logit_scale`, and the buffers
`relative_position_index` and V2's `relative_coords_table`, non-trainable variables here).
"""

from zoo.weights.convert.rules import Rules


def _stage(template):
    """A template whose `{m}` is torchvision's `features` index of stage group `s`'s blocks
    (2s - 1) or, with `{merge}`, of the merging that starts it (2s - 2)."""

    def expand(match, model):
        s = int(match.group("s"))
        return match.expand(template).replace("{m}", str(2 * s - 1)).replace(
            "{merge}", str(2 * s - 2))

    return expand


TORCHVISION = Rules(
    [
        (r"patch_embed_conv", "features.0.0"),
        (r"patch_embed_norm", "features.0.2"),
        (r"stage(?P<s>\d+)_merge_(?P<part>norm|reduction)", _stage(r"features.{merge}.\g<part>")),
        (r"stage(?P<s>\d+)_block(?P<b>\d+)_(?P<part>norm1|norm2|attn)",
         _stage(r"features.{m}.\g<b>.\g<part>")),
        (r"stage(?P<s>\d+)_block(?P<b>\d+)_attn_(?P<part>qkv|proj)",
         _stage(r"features.{m}.\g<b>.attn.\g<part>")),
        (r"stage(?P<s>\d+)_block(?P<b>\d+)_attn_cpb_mlp(?P<i>[02])",
         _stage(r"features.{m}.\g<b>.attn.cpb_mlp.\g<i>")),
        (r"stage(?P<s>\d+)_block(?P<b>\d+)_mlp_fc(?P<i>[12])",
         lambda m, model: f"features.{2 * int(m['s']) - 1}.{m['b']}.mlp."
                          f"{3 * (int(m['i']) - 1)}"),
        (r"norm", "norm"),
        (r"logits", "head"),
    ],
    head=("head.",),
)

#: {source: rules}: the checkpoint formats this family's weights convert from
RULES = {"torchvision": TORCHVISION}

#: the reference's modules whose outputs are the zoo model's `stage1` ... `stage4`
STAGE_MODULES = ["features.1", "features.3", "features.5", "norm"]


def reference_stage(name, output):
    """torchvision's Swin keeps maps channels last; the check reads them channels first."""
    return output.permute(0, 3, 1, 2)


#: torchvision's ImageNet weights published as `<name>.imagenet` (their DEFAULT weights)
TORCHVISION_WEIGHTS = ("swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b")
