"""The vision transformers' search space: depth, width, heads, patch size, stochastic depth,
the learning rate, optimizer and schedule (AdamW first, as ViT, DeiT and DINOv2 train)."""

from zoo.tuning.space import Choice, Float, Int, SearchSpace, learning_rate

#: widths that every head count below divides (192 = 12 heads x 16)
WIDTHS = (192, 384, 576, 768)
HEADS = (1, 2, 3, 4, 6, 12)


def search_space(arguments):
    """Depth (1-12 blocks), width (`hidden_dim`, multiples of 192 and the model's, the MLP
    4x that unless `mlp_dim` is fixed), heads, patch size (divisors of the input's side
    leaving at least a 2x2 grid), drop path, learning rate (log, 1e-5-1e-2), optimizer and
    schedule; the defaults are the model's where they lie in the space."""
    side = min(arguments["input_shape"][:2])
    patches = tuple(p for p in (2, 4, 7, 8, 14, 16, 32) if side % p == 0 and side // p >= 2)
    patch = arguments["patch_size"]
    # the model's own width and heads are in the space (its defaults); head counts that do
    # not divide every width are left out (ViT-L's 1024 and 16 heads: no 3, 6 or 12)
    widths = tuple(sorted(set(WIDTHS) | {arguments["hidden_dim"]}))
    heads = tuple(h for h in sorted(set(HEADS) | {arguments["num_heads"]})
                  if all(w % h == 0 for w in widths))
    return SearchSpace((
        Int("depth", 1, max(12, arguments["depth"])),
        Choice("num_heads", heads, default=arguments["num_heads"]),
        Choice("hidden_dim", widths, default=arguments["hidden_dim"]),
        Choice("patch_size", tuple(sorted(set(patches) | {patch})), default=patch),
        Float("drop_path", 0.0, 0.3, step=0.1),
        learning_rate(1e-5, 1e-2, default=1e-3),
        Choice("optimizer", ("adamw", "adam"), default="adamw"),
        Choice("schedule", ("constant", "cosine"), default="cosine"),
    ), notes="hidden_dim: multiples of 192, which every head count divides; mlp_dim "
             "follows hidden_dim (4x) unless fixed")
