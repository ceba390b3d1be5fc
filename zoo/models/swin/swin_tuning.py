"""Swin's search space: width, depth of the deep stage, window size, stochastic depth,
the learning rate, optimizer and schedule."""

from zoo.tuning.space import Choice, Derived, Float, Int, SearchSpace, learning_rate


def search_space(arguments):
    """Width (`width_multiplier`: each step keeps every stage a multiple of its heads for
    the published widths), the third stage's depth (Swin's deep stage: 2-18 blocks in
    pairs of a regular and a shifted window; the other stages keep theirs), window size,
    drop path, learning rate (log), optimizer and schedule; the defaults are the
    model's where they lie in the space."""
    depths = tuple(arguments["depths"])
    window = arguments["window_size"]
    hps = [Float("width_multiplier", 0.25, 1.5, step=0.25)]
    derived = ()
    if len(depths) > 2:
        hps.append(Int("stage3_depth", 2, max(18, depths[2]), step=2))

        def compose(values):
            return depths[:2] + (int(values["stage3_depth"]),) + depths[3:]

        derived = (Derived("depths", ("stage3_depth",), compose,
                           lambda d: {"stage3_depth": tuple(d)[2] if d else None}),)
    hps += [
        Choice("window_size", tuple(sorted({4, 7, 8, window}))),
        Float("drop_path", 0.0, 0.5, step=0.1),
        learning_rate(1e-5, 1e-2),
        Choice("optimizer", ("adam", "sgd"), default="adam"),
        Choice("schedule", ("constant", "cosine"), default="constant"),
    ]
    return SearchSpace(tuple(hps), derived=derived,
                       notes="stage3_depth sets the third of `depths`; the others are kept")
