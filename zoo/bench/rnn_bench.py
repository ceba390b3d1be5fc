"""`scripts/bench.py rnn`: sentence-polarity accuracy of the RNN family against bag-of-words.

On the Pang & Lee sentences (`zoo.datasets.load("movie_reviews")`, fixed
seeded 80/20 split) it trains each recurrent model and a bag-of-words
logistic regression the same way (same split, same `TextVectorization`
vocabulary procedure: `max_tokens`, standardisation, adapted on the training
split only) and prints their test accuracies side by side.

`--holdout` evaluates on the first 640 training sentences, trained on the
other 2,560, leaving the test split untouched: the recipe (epochs, dropout,
sizes) is chosen that way, then measured once on the test split.

```sh
flock /tmp/zoo-cpu.lock python scripts/bench.py rnn
flock /tmp/zoo-cpu.lock python scripts/bench.py rnn --holdout --models lstm --epochs 8
python scripts/bench.py rnn --gradients   # exploding / vanishing gradient figures
```
"""

import time

from zoo.utils.command_line import ArgumentParser
from zoo.utils.ownership import write_output_json

HOLDOUT = 640
# chosen on --holdout (2,560 / 640 sentences of the training split), see docs/benchmarks.md
RECIPE = {"pooling": "mean", "dropout": 0.3}


def build_parser():
    p = ArgumentParser(prog="bench.py rnn", description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="simple_rnn,lstm,gru,bilstm",
                   help="comma-separated zoo names; 'none' for the baseline alone")
    p.add_argument("--epochs", type=int, default=4, help="epochs of every recurrent model")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3,
                   help="Adam learning rate of the recurrent models")
    p.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="constructor argument for every recurrent model (repeatable); "
                        f"the defaults add {RECIPE}")
    p.add_argument("--baseline-epochs", type=int, default=5)
    p.add_argument("--baseline-lr", type=float, default=1e-2)
    p.add_argument("--baseline-mode", default="multi_hot", choices=["multi_hot", "count", "tf_idf"],
                   help="TextVectorization output_mode of the bag of words")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--holdout", action="store_true",
                   help=f"score on {HOLDOUT} held-out training sentences, not the test split")
    p.add_argument("--gradients", action="store_true",
                   help="print the exploding/vanishing gradient figures of tests/rnn instead")
    p.add_argument("--json", default=None, help="also write the results to this file")
    p.add_argument("--backend", default=None, help="applied by scripts/bench.py")
    return p


def splits(holdout):
    import zoo

    (xtr, ytr), (xte, yte) = zoo.datasets.load_arrays("movie_reviews")
    if holdout:
        return (xtr[HOLDOUT:], ytr[HOLDOUT:]), (xtr[:HOLDOUT], ytr[:HOLDOUT])
    return (xtr, ytr), (xte, yte)


def bag_of_words(train, test, vocabulary_size, mode, epochs, lr, batch_size, seed):
    """Logistic regression on a bag of words: TextVectorization + Dense logits."""
    import keras

    keras.utils.set_random_seed(seed)
    vectorizer = keras.layers.TextVectorization(max_tokens=vocabulary_size, output_mode=mode)
    vectorizer.adapt(train[0])
    features = [keras.ops.convert_to_numpy(vectorizer(x)) for x in (train[0], test[0])]
    model = keras.Sequential([keras.Input((features[0].shape[1],)), keras.layers.Dense(2)])
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.time()
    model.fit(features[0], train[1], epochs=epochs, batch_size=batch_size, verbose=0)
    seconds = time.time() - start
    accuracy = model.evaluate(features[1], test[1], return_dict=True, verbose=0)["accuracy"]
    return {"accuracy": float(accuracy), "params": model.count_params(), "train_s": seconds}


def recurrent(name, train, test, model_kwargs, epochs, lr, batch_size, seed):
    import keras

    import zoo
    from zoo.datasets import pipeline

    keras.utils.set_random_seed(seed)
    model = zoo.create(name, **model_kwargs)
    train_ds = pipeline(*train, batch_size, shuffle=True, seed=seed, kind="text")
    test_ds = pipeline(*test, batch_size, shuffle=False, kind="text")
    model.adapt(train_ds)
    model.compile(optimizer=keras.optimizers.Adam(lr))
    start = time.time()
    history = model.fit(train_ds, validation_data=test_ds, epochs=epochs, verbose=0)
    seconds = time.time() - start
    accuracy = model.evaluate(test_ds, return_dict=True, verbose=0)["accuracy"]
    return {
        "accuracy": float(accuracy),
        "params": model.count_params(),
        "train_s": seconds,
        "per_epoch": [round(float(a), 4) for a in history.history["val_accuracy"]],
    }


def gradients():
    """Norms of d sum(features) / d input at the first step, as tests/rnn measures them."""
    import keras
    import numpy as np
    from keras import ops

    import zoo
    from zoo.training import input_gradient

    def first_last(model, x):
        grad = ops.convert_to_numpy(input_gradient(lambda e: model.encode(e), x))
        return np.linalg.norm(grad[:, 0]), np.linalg.norm(grad[:, -1])

    print("Exploding: SimpleRNN, 8 units, recurrent kernel 1.5 I, zero inputs "
          "(tanh's linear regime)")
    for length in (10, 30, 60):
        keras.utils.set_random_seed(0)
        model = zoo.create("simple_rnn", text_input=False, vocabulary_size=10, embedding_dim=4,
                           units=8, sequence_length=length)
        model.recurrent[0].cell.recurrent_kernel.assign(1.5 * np.eye(8, dtype="float32"))
        first, _ = first_last(model, np.zeros((2, length, 4), "float32"))
        print(f"  {length:>3} steps: |grad of first input| = {first:.3g}")
    ids, labels = np.full((4, 60), 3, "int32"), np.ones(4, "int32")
    for clip in (None, 1.0):
        keras.utils.set_random_seed(0)
        model = zoo.create("simple_rnn", text_input=False, vocabulary_size=10, embedding_dim=4,
                           units=8, sequence_length=60, gradient_clip_norm=clip)
        model.recurrent[0].cell.recurrent_kernel.assign(1.5 * np.eye(8, dtype="float32"))
        model.embedding.embeddings.assign(np.zeros((10, 4), "float32"))
        model.compile(optimizer=keras.optimizers.SGD(0.01))
        before = [ops.convert_to_numpy(w) for w in model.trainable_weights]
        model.train_on_batch(ids, labels)
        change = np.sqrt(sum(np.sum((ops.convert_to_numpy(w) - b) ** 2)
                             for w, b in zip(model.trainable_weights, before)))
        print(f"  one SGD step (lr 0.01), 60 steps, gradient_clip_norm={clip}: "
              f"weight change {change:.3g}")
    print("Vanishing: 100 steps of N(0, 1) inputs (16 dims), 32 units; |grad first| / |grad last|")
    x = np.random.default_rng(0).normal(size=(4, 100, 16)).astype("float32")
    for cell in ("simple_rnn", "lstm", "gru"):
        keras.utils.set_random_seed(0)
        model = zoo.create(cell, text_input=False, vocabulary_size=10, embedding_dim=16, units=32)
        first, last = first_last(model, x)
        line = f"  {cell:<10} default init {first / last:.3g}"
        if cell != "simple_rnn":
            bias = model.recurrent[0].cell.bias
            value = ops.convert_to_numpy(bias).copy()
            if cell == "lstm":
                value[32:64] = 5.0  # forget gate open
            else:
                value[0, :32] = 5.0  # update gate keeps the state
            bias.assign(value)
            first, last = first_last(model, x)
            line += f", gate bias 5: {first / last:.3g}"
        print(line)
    return 0


def main(argv=None):
    import keras

    from zoo.jobs.job_args import parse_model_args

    args = build_parser().parse_args(argv)
    if args.gradients:
        return gradients()
    model_kwargs = {**RECIPE, **parse_model_args(args.model_arg)}
    vocabulary_size = model_kwargs.get("vocabulary_size", 20000)
    train, test = splits(args.holdout)
    split = f"holdout ({len(test[0])} of the training split)" if args.holdout else "test"
    print(f"Pang & Lee sentences: train {len(train[0])}, {split} {len(test[0])}; "
          f"backend {keras.backend.backend()}, seed {args.seed}; recurrent models: "
          f"{model_kwargs}, {args.epochs} epochs, Adam {args.lr}, batch {args.batch_size}")
    results = {
        "bag_of_words": bag_of_words(
            train, test, vocabulary_size, args.baseline_mode, args.baseline_epochs,
            args.baseline_lr, args.batch_size, args.seed,
        )
    }
    header = f"{'model':<14}{'accuracy':>9}{'params':>11}{'train s':>9}  accuracy per epoch"
    print(header, flush=True)
    row = results["bag_of_words"]
    print(f"{'bag_of_words':<14}{row['accuracy']:>9.4f}{row['params']:>11,}{row['train_s']:>9.1f}",
          flush=True)
    names = [] if args.models == "none" else [n for n in args.models.split(",") if n]
    for name in names:
        row = recurrent(name, train, test, model_kwargs, args.epochs, args.lr, args.batch_size,
                        args.seed)
        results[name] = row
        print(f"{name:<14}{row['accuracy']:>9.4f}{row['params']:>11,}{row['train_s']:>9.1f}  "
              + " ".join(f"{a:.3f}" for a in row["per_epoch"]), flush=True)
    if names:
        best = max(names, key=lambda n: results[n]["accuracy"])
        gap = results[best]["accuracy"] - results["bag_of_words"]["accuracy"]
        print(f"best recurrent: {best} {results[best]['accuracy']:.4f} "
              f"({gap:+.4f} against bag of words)")
    if args.json:
        write_output_json(args.json, {"args": vars(args), "results": results}, "--json")
    return 0
