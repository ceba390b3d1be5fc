"""The vision transformers' search space: depth, width, heads, patch size, stochastic depth,
the learning rate and schedule (AdamW, as ViT and DeiT train)."""

from zoo.tuning.space import Choice, Derived, Float, Int, SearchSpace, learning_rate


def search_space(arguments):
    """Depth (1-12 blocks), width per head (16-64) and heads (1-12: `hidden_dim` is their
    product, the MLP 4x that), patch size (a divisor of the input's side), drop path,
    learning rate (log, 1e-5-1e-2), optimizer and schedule; the defaults are the
    model's."""
    heads = arguments["num_heads"]
    side = min(arguments["input_shape"][:2])
    patches = tuple(p for p in (2, 4, 7, 8, 14, 16, 32) if side % p == 0 and side // p >= 2)
    patch = arguments["patch_size"]
    hps = [
        Int("depth", 1, max(12, arguments["depth"]), default=arguments["depth"]),
        Int("num_heads", 1, max(12, heads), default=heads),
        Choice("head_dim", (16, 32, 48, 64), default=arguments["hidden_dim"] // heads
               if arguments["hidden_dim"] // heads in (16, 32, 48, 64) else None),
        Choice("patch_size", patches or (patch,), default=patch if patch in patches else None),
        Float("drop_path", 0.0, 0.3, step=0.1, default=arguments["drop_path"]),
        learning_rate(1e-5, 1e-2, default=1e-3),
        Choice("optimizer", ("adamw", "adam"), default="adamw"),
        Choice("schedule", ("constant", "cosine"), default="cosine"),
    ]

    def width(values):
        return values["num_heads"] * values["head_dim"]

    def mlp(values):
        return 4 * values["num_heads"] * values["head_dim"]

    derived = (
        # `num_heads` is a hyperparameter and an argument: passed through as itself
        Derived("num_heads", ("num_heads",), lambda values: values["num_heads"],
                lambda n: {"num_heads": n}),
        Derived("hidden_dim", ("num_heads", "head_dim"), width,
                lambda hidden: {"head_dim": hidden // heads}),
        Derived("mlp_dim", ("num_heads", "head_dim"), mlp, lambda _: {}),
    )
    return SearchSpace(tuple(hps), derived=derived,
                       notes="hidden_dim = num_heads x head_dim, mlp_dim = 4 x hidden_dim; "
                             "AdamW first (ViT, DeiT and DINOv2 train with it)")
