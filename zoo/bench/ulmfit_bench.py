"""`scripts/bench.py ulmfit`: pretrained recurrent classifiers against bag of words.

On a Pang & Lee subset (`--subset sentences`: 3,200 / 800; `documents`:
1,200 / 300) every row trains on the training split less the validation split
`scripts/train.py` carves (`--validation-split 0.1 --validation-seed 0`) and is
scored on `--split validation` (the recipe is chosen there) or `--split test`
(read once per seed, for the report). Rows: the bag-of-words logistic
regression of `scripts/bench.py rnn`, each recurrent model from scratch (that
suite's recipe: mean pooling, dropout 0.3, Adam 1e-3, 4 epochs, its own
vocabulary), and each model from its pretrained encoder (`weights=review_lm`,
`scripts/pretrain_text.py`) fine-tuned as ULMFiT does: a new head,
discriminative learning rates, gradual unfreezing and a slanted triangular
rate (`OneCycle`, linear). The fine-tuning recipe's options are those of
`scripts/train.py`, which trains the published weights the same way.

```sh
python scripts/bench.py ulmfit --split validation --models gru --seeds 0
python scripts/bench.py ulmfit --split test --seeds 0,1,2
python scripts/bench.py ulmfit --split test --subset documents --sequence-length 400
```

Diagnosis options: `--init embedding|none` keeps only the pretrained embedding, or
only the vocabulary (fresh weights: what the pretrained weights are worth);
`--embedding-lr 0` freezes the embedding; `--lm-epochs N` first fine-tunes the
encoder as a language model on the training split's texts (ULMFiT's stage 2);
`--ensemble` also scores the mean of the pretrained rows' class probabilities.
"""

import json
import time

from zoo.utils.command_line import ArgumentParser

SCRATCH = {"pooling": "mean", "dropout": 0.3}  # scripts/bench.py rnn's recipe
SCRATCH_EPOCHS, SCRATCH_LR = 4, 1e-3


def build_parser():
    p = ArgumentParser(prog="bench.py ulmfit", description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="lstm,gru", help="comma-separated recurrent names")
    p.add_argument("--weights", default="review_lm", help="pretrained encoder tag")
    p.add_argument("--split", choices=["validation", "test"], default="validation")
    p.add_argument("--subset", choices=["sentences", "documents"], default="sentences")
    p.add_argument("--seeds", default="0", help="comma-separated seeds")
    p.add_argument("--rows", default="bow,scratch,pretrained",
                   help="which rows: bow, scratch, pretrained")
    g = p.add_argument_group("fine-tuning recipe (scripts/train.py's options)")
    g.add_argument("--epochs", type=int, default=4)
    g.add_argument("--batch-size", type=int, default=32)
    g.add_argument("--max-lr", type=float, default=3e-3)
    g.add_argument("--pct-start", type=float, default=0.1)
    g.add_argument("--div-factor", type=float, default=32.0)
    g.add_argument("--final-div-factor", type=float, default=1.0)
    g.add_argument("--layer-lr-decay", type=float, default=2.6)
    g.add_argument("--no-unfreezing", action="store_true", help="train all groups from epoch 1")
    g.add_argument("--pooling", default="concat")
    g.add_argument("--dropout", type=float, default=0.3)
    g.add_argument("--sequence-length", type=int, default=None,
                   help="tokens read per text (default: the encoder's)")
    g.add_argument("--init", choices=["full", "embedding", "none"], default="full",
                   help="what the classifier keeps of the pretrained encoder (its vocabulary "
                        "always): all of it, the embedding only, or nothing (a diagnosis)")
    g.add_argument("--embedding-lr", type=float, default=1.0,
                   help="with --no-unfreezing: factor on the embedding's rate (0: frozen)")
    g.add_argument("--lm-epochs", type=int, default=0,
                   help="ULMFiT's stage 2: epochs of language-model fine-tuning on the "
                        "training split's texts before the classifier (0: none)")
    g.add_argument("--lm-lr", type=float, default=1e-3, help="its peak rate (one-cycle)")
    p.add_argument("--ensemble", action="store_true",
                   help="also score the average of the pretrained rows' probabilities")
    p.add_argument("--json", default=None, help="also write the results to this file")
    p.add_argument("--backend", default=None, help="applied by scripts/bench.py")
    return p


def data(subset):
    """(train, validation, test) arrays: train.py's split of the training data."""
    import zoo

    (xtr, ytr), (xte, yte) = zoo.datasets.load_arrays("movie_reviews", subset=subset)
    train_idx, val_idx = zoo.datasets.split_indices(len(xtr), 0.1, 0)
    return (xtr[train_idx], ytr[train_idx]), (xtr[val_idx], ytr[val_idx]), (xte, yte)


def train_command(name, args, seed, subset="sentences"):
    """The scripts/train.py command that trains the `name` row with this recipe."""
    parts = [f"python scripts/train.py {name} --dataset movie_reviews --weights {args.weights}",
             f"--epochs {args.epochs} --batch-size {args.batch_size} --schedule onecycle",
             f"--max-lr {args.max_lr} --pct-start {args.pct_start} --div-factor {args.div_factor}",
             f"--final-div-factor {args.final_div_factor} --anneal linear",
             f"--layer-lr-decay {args.layer_lr_decay}"]
    if not args.no_unfreezing:
        parts.append("--gradual-unfreezing")
    parts.append(f"--model-arg pooling={args.pooling} --model-arg dropout={args.dropout}")
    if args.sequence_length:
        parts.append(f"--model-arg sequence_length={args.sequence_length}")
    parts.append(f"--seed {seed}")
    if subset != "sentences":
        parts.append(f"(subset {subset}: no train.py dataset name)")
    return " ".join(parts)


def tune_language_model(name, args, model, texts, heldout_texts, seed):
    """ULMFiT's stage 2: the encoder of `model` trained further as a language model
    on `texts` (the training split); returns the held-out perplexity before and after."""
    import keras

    import callbacks
    import zoo
    from zoo.models.rnn import RNNLanguageModel

    encoder = zoo.create(name, weights=args.weights, num_classes=None)
    lm = RNNLanguageModel.from_encoder(encoder, output_dropout=0.1, seed=seed)
    ids = lm.token_stream([str(t) for t in texts])
    heldout = lm.windows(lm.token_stream([str(t) for t in heldout_texts]), 32, shuffle=False)
    lm.compile(optimizer=keras.optimizers.Adam(args.lm_lr, beta_1=0.8, beta_2=0.99))
    before = lm.evaluation_metrics(heldout)["perplexity"]
    start = time.time()
    schedule = callbacks.OneCycle(args.lm_lr, pct_start=0.1)
    lm.fit(lm.windows(ids, 32, seed=seed), epochs=args.lm_epochs, verbose=0,
           callbacks=[callbacks.Scheduler(schedule)], shuffle=False)
    seconds = time.time() - start
    after = lm.evaluation_metrics(heldout)["perplexity"]
    for mine, tuned in zip([model.embedding, *model.recurrent],
                           [lm.encoder.embedding, *lm.encoder.recurrent]):
        mine.set_weights(tuned.get_weights())
    return {"lm_perplexity": [round(before, 1), round(after, 1)], "lm_s": round(seconds, 1)}


def finetune(name, args, train, scored, seed, heldout_texts=None):
    """Fine-tunes `name` from `args.weights` as train.py does; returns its row."""
    import keras

    import callbacks
    import zoo
    from zoo.datasets import pipeline
    from zoo.utils.optimizers import make_optimizer

    keras.utils.set_random_seed(seed)
    kwargs = {"num_classes": 2, "pooling": args.pooling, "dropout": args.dropout}
    if args.sequence_length:
        kwargs["sequence_length"] = args.sequence_length
    model = zoo.create(name, weights=args.weights, **kwargs)
    stage2 = {}
    if args.lm_epochs:
        stage2 = tune_language_model(name, args, model, train[0], heldout_texts, seed)
    if args.init != "full":
        reinitialise(model, name, kwargs, embedding=args.init == "none")
    model.compile(optimizer=make_optimizer("adam", args.max_lr, None))
    schedule = callbacks.OneCycle(args.max_lr, pct_start=args.pct_start,
                                  div_factor=args.div_factor,
                                  final_div_factor=args.final_div_factor, anneal="linear",
                                  momentum=(0.85, 0.95))
    used = [callbacks.Scheduler(schedule)]
    if args.no_unfreezing:
        multipliers = callbacks.discriminative_multipliers(model, args.layer_lr_decay)
        for variable in model.embedding.trainable_weights:
            multipliers[variable.path] *= args.embedding_lr
        model.set_learning_rate_multipliers(multipliers)
    else:
        used.insert(0, callbacks.GradualUnfreezing(args.layer_lr_decay))
    train_ds = pipeline(*train, args.batch_size, shuffle=True, seed=seed, kind="text")
    scored_ds = pipeline(*scored, 256, shuffle=False, kind="text")
    per_epoch = []

    class Score(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if args.split == "validation":  # the test split is scored once, after training
                per_epoch.append(model.evaluate(scored_ds, return_dict=True,
                                                verbose=0)["accuracy"])

    start = time.time()
    model.fit(train_ds, epochs=args.epochs, callbacks=used + [Score()], verbose=0,
              shuffle=False)
    seconds = time.time() - start
    accuracy = model.evaluate(scored_ds, return_dict=True, verbose=0)["accuracy"]
    probabilities = keras.ops.convert_to_numpy(
        keras.ops.softmax(model.predict(scored_ds, verbose=0), axis=-1))
    return {"accuracy": float(accuracy), "params": model.count_params(), "train_s": seconds,
            "per_epoch": [round(float(a), 4) for a in per_epoch],
            "command": train_command(name, args, seed, args.subset),
            "probabilities": probabilities, **stage2}


def reinitialise(model, name, kwargs, embedding=False):
    """Gives `model`'s recurrent layers (and its embedding with `embedding`) fresh
    initial weights, keeping its vocabulary: how much the pretrained part is worth."""
    import zoo

    fresh = zoo.create(name, text_input=False, vocabulary_size=model.vocabulary_size,
                       embedding_dim=model.embedding_dim, units=model.units,
                       num_layers=model.num_layers, **kwargs)
    pairs = list(zip(model.recurrent, fresh.recurrent))
    if embedding:
        pairs.append((model.embedding, fresh.embedding))
    for layer, new in pairs:
        layer.set_weights(new.get_weights())


def ensemble(rows, labels):
    """Accuracy of the mean of `rows`' class probabilities."""
    import numpy as np

    mean = np.mean([row["probabilities"] for row in rows], axis=0)
    return float(np.mean(np.argmax(mean, axis=-1) == np.asarray(labels)))


def scratch(name, args, train, scored, seed):
    """`scripts/bench.py rnn`'s recipe (its own vocabulary), scored once after training."""
    import keras

    import zoo
    from zoo.datasets import pipeline

    keras.utils.set_random_seed(seed)
    kwargs = dict(SCRATCH)
    if args.sequence_length:
        kwargs["sequence_length"] = args.sequence_length
    model = zoo.create(name, **kwargs)
    train_ds = pipeline(*train, 64, shuffle=True, seed=seed, kind="text")
    model.adapt(train_ds)
    model.compile(optimizer=keras.optimizers.Adam(SCRATCH_LR))
    start = time.time()
    model.fit(train_ds, epochs=SCRATCH_EPOCHS, verbose=0, shuffle=False)
    seconds = time.time() - start
    scored_ds = pipeline(*scored, 256, shuffle=False, kind="text")
    accuracy = model.evaluate(scored_ds, return_dict=True, verbose=0)["accuracy"]
    return {"accuracy": float(accuracy), "params": model.count_params(), "train_s": seconds}


def main(argv=None):
    import keras

    from zoo.bench.rnn_bench import bag_of_words

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lm_epochs < 0:
        parser.error(f"`--lm-epochs` must be >= 0. Received: {args.lm_epochs}")
    if args.ensemble and "pretrained" not in args.rows.split(","):
        parser.error(f"`--ensemble` averages the pretrained rows. Received: --rows {args.rows}")
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    rows = [r for r in args.rows.split(",") if r]
    names = [n for n in args.models.split(",") if n]
    train, val, test = data(args.subset)
    scored = val if args.split == "validation" else test
    print(f"Pang & Lee {args.subset}: train {len(train[0])}, {args.split} {len(scored[0])}; "
          f"backend {keras.backend.backend()}; seeds {seeds}", flush=True)
    results = {}
    for seed in seeds:
        table = {}
        if "bow" in rows:
            table["bag_of_words"] = bag_of_words(train, scored, 20000, "multi_hot", 5, 1e-2, 64,
                                                 seed)
        for name in names:
            if "scratch" in rows:
                table[f"{name} (scratch)"] = scratch(name, args, train, scored, seed)
            if "pretrained" in rows:
                table[f"{name} ({args.weights})"] = finetune(name, args, train, scored, seed,
                                                             val[0])
        if args.ensemble:
            members = [table[f"{n} ({args.weights})"] for n in names if "pretrained" in rows]
            table["ensemble"] = {"accuracy": ensemble(members, scored[1]),
                                 "params": sum(r["params"] for r in members),
                                 "train_s": sum(r["train_s"] for r in members)}
        for row in table.values():
            row.pop("probabilities", None)
        results[seed] = table
        print(f"seed {seed}", flush=True)
        for key, row in table.items():
            epochs = " ".join(f"{a:.3f}" for a in row.get("per_epoch", []))
            print(f"  {key:<22}{row['accuracy']:>8.4f}{row['params']:>11,}"
                  f"{row['train_s']:>8.1f} s  {epochs}"
                  + (f"  LM perplexity {row['lm_perplexity']} in {row['lm_s']} s"
                     if "lm_s" in row else ""), flush=True)
    if len(seeds) > 1:
        print("mean over seeds")
        for key in results[seeds[0]]:
            values = [results[s][key]["accuracy"] for s in seeds]
            print(f"  {key:<22}{sum(values) / len(values):>8.4f}  "
                  + " ".join(f"{v:.4f}" for v in values))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=2)
    return 0
