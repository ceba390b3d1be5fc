"""ULMFiT's fine-tuning: discriminative learning rates and gradual unfreezing.

Howard & Ruder (2018), section 3.2: each layer group below the top trains
at the rate of the group above divided by `decay` (2.6 in the paper), and the
groups are unfrozen one per epoch from the top (the new head first), so the
pretrained layers are not overwritten while the head is still random. Both
set `ZooModel.set_learning_rate_multipliers`: factor `decay ** -depth`, 0
while frozen. The slanted triangular rate of the same paper is `OneCycle`
with `pct_start=0.1`, `div_factor=32`, `final_div_factor=1` and linear
annealing.
"""

import keras

from callbacks._common import DeepCopyable
from zoo.errors import UserValueError


def layer_groups(model):
    """[(name, [layers])] from the input side to the output: the model's own
    `layer_groups()` where it declares them, else each top-level layer with weights."""
    declared = getattr(model, "layer_groups", None)
    if callable(declared):
        return [(name, list(layers)) for name, layers in declared()]
    return [(layer.name, [layer]) for layer in model.layers if layer.trainable_weights]


def discriminative_multipliers(model, decay=2.6, unfrozen=None):
    """{variable.path: factor}: `decay ** -depth` for the group `depth` below the top.

    Args:
        model: a `ZooModel`.
        decay: the ratio between the rates of neighbouring groups (1: all equal).
        unfrozen: how many groups, counted from the top, train (the others get
            factor 0); None: all of them.
    """
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or decay < 1:
        raise UserValueError(f"`decay` must be a number >= 1. Received: decay={decay!r}")
    groups = layer_groups(model)
    out = {}
    for depth, (_, layers) in enumerate(reversed(groups)):
        factor = 0.0 if unfrozen is not None and depth >= unfrozen else float(decay) ** -depth
        for layer in layers:
            for variable in layer.trainable_weights:
                out[variable.path] = factor
    return out


class GradualUnfreezing(DeepCopyable, keras.callbacks.Callback):
    """Unfreezes the model's layer groups one at a time from the top, with
    discriminative learning rates.

    At the start of epoch `e` the top `1 + e // every` groups train, the group
    `depth` below the top at `decay ** -depth` times the optimizer's rate; the
    others are frozen (factor 0: their weights do not change). `history` maps
    each epoch to the names of the groups that trained in it. The groups are
    the model's `layer_groups()` (recurrent classifiers: embedding, each
    recurrent layer, logits), else its top-level layers with weights.

    Args:
        decay: ratio between neighbouring groups' rates (ULMFiT: 2.6; 1: equal).
        every: epochs between unfreezing steps.
        verbose: 1 prints the groups that train at each epoch.

    Example:

    ```python
    model = zoo.create("gru", weights="review_lm", num_classes=2)
    model.fit(train, epochs=4, callbacks=[GradualUnfreezing(decay=2.6)])
    ```
    """

    def __init__(self, decay=2.6, every=1, verbose=0):
        super().__init__()
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or decay < 1:
            raise UserValueError(f"`decay` must be a number >= 1. Received: decay={decay!r}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise UserValueError(f"`every` must be an int >= 1. Received: every={every!r}")
        self.decay, self.every, self.verbose = decay, every, verbose
        self.history = {}

    def on_epoch_begin(self, epoch, logs=None):
        groups = layer_groups(self.model)
        unfrozen = min(len(groups), 1 + epoch // self.every)
        self.model.set_learning_rate_multipliers(
            discriminative_multipliers(self.model, self.decay, unfrozen)
        )
        names = [name for name, _ in groups[len(groups) - unfrozen:]]
        self.history[epoch] = names
        if self.verbose:
            print(f"GradualUnfreezing: epoch {epoch + 1} trains {', '.join(names)}")
