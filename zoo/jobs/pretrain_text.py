"""`scripts/pretrain_text.py MODEL`: pretrain a recurrent encoder as a language model.

ULMFiT's first stage (Howard & Ruder, 2018) on this machine's offline text
(`zoo.datasets.corpora`: the Pang & Lee training splits, Jane Austen's novels,
an OANC sample, 25,000 IMDb reviews; never a test split). MODEL is a recurrent classifier name
(`lstm`, `gru`, `bilstm`, `bigru`): its encoder becomes an
`RNNLanguageModel` (next-token; bidirectional: next- and previous-token) and
trains with the zoo's step and callbacks (one-cycle schedule, checkpoints).
The vocabulary is adapted on the review texts. The held-out perplexity is
measured on the review texts of `scripts/train.py`'s validation split, which the
language model never trains on. `--init-from RUN` starts from an earlier run's
language model (weights and vocabulary) to train on over more text.

```sh
python scripts/pretrain_text.py gru --epochs 4 --run-dir runs/gru-lm
python scripts/pretrain_text.py gru --run-dir runs/gru-lm --publish review_lm  # after training
python scripts/pretrain_text.py gru --weights review_lm --evaluate   # re-measure the entry
```

The run directory receives `config.json`, `history.json`, `metrics.json`,
`model.keras` (the language model) and `checkpoints/`. `--publish TAG` writes
the encoder (embedding, recurrent layers, vocabulary; no head) as the weights
entry `MODEL.TAG`, which `zoo.create(MODEL, weights=TAG, num_classes=2)`
fine-tunes (`scripts/train.py --weights TAG`).
"""

import json
import shlex
import sys
import time
from pathlib import Path

from zoo.errors import UserValueError
from zoo.jobs.job_args import add_backend_arg
from zoo.jobs.publish_weights import check_owned_entry, commit_measured
from zoo.jobs.run_dir import RunDirectory
from zoo.utils.command_line import USER_ERRORS, ArgumentParser, report
from zoo.utils.files import atomic_path, write_json_atomic

PREPROCESSING = "raw strings (the model holds its own text vectorization and vocabulary)"


def build_parser():
    p = ArgumentParser(prog="pretrain_text.py",
                       description="Pretrain a recurrent encoder as a language model.")
    p.add_argument("model", help="recurrent classifier name: lstm, gru, bilstm, bigru, ...")
    p.add_argument("--run-dir", default=None, help="where the run is (default runs/MODEL-lm-TIME)")
    p.add_argument("--overwrite", action="store_true", help="replace the run in --run-dir")
    p.add_argument("--parts", default="reviews,austen,oanc",
                   help="corpus parts (zoo.datasets.corpora.PARTS), comma-separated")
    p.add_argument("--vocabulary-size", type=int, default=12000,
                   help="tokens kept (padding and [UNK] included), the most frequent in the "
                        "review training texts")
    p.add_argument("--embedding-dim", type=int, default=64, help="also the units (tied decoder)")
    p.add_argument("--num-layers", type=int, default=1)
    p.add_argument("--sequence-length", type=int, default=64,
                   help="window of the language model (the classifier's tokens per text)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3, help="peak rate of the one-cycle schedule")
    p.add_argument("--pct-start", type=float, default=0.1, help="one-cycle: fraction rising")
    p.add_argument("--embedding-dropout", type=float, default=0.0)
    p.add_argument("--dropout", type=float, default=0.1,
                   help="variational dropout on each recurrent layer's input")
    p.add_argument("--recurrent-dropout", type=float, default=0.0)
    p.add_argument("--output-dropout", type=float, default=0.1)
    p.add_argument("--init-from", default=None, metavar="RUN",
                   help="start from the language model of an earlier run (its weights and "
                        "vocabulary; the sizes must match): train on over more text")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-tokens", type=int, default=None, metavar="N",
                   help="train on the first N tokens only (quick runs, tests)")
    p.add_argument("--verbose", type=int, default=2)
    add_backend_arg(p)
    g = p.add_argument_group("publishing and re-measuring")
    g.add_argument("--publish", default=None, metavar="TAG",
                   help="write the trained encoder of --run-dir as the weights entry MODEL.TAG")
    g.add_argument("--package-dir", default=None,
                   help="where the entry goes (default: the family's weights/ folder)")
    g.add_argument("--force", action="store_true", help="replace an existing entry")
    g.add_argument("--weights", default=None, help="with --evaluate: a published encoder tag")
    g.add_argument("--evaluate", action="store_true",
                   help="print the held-out perplexity of --weights (or of --run-dir)")
    return p


def _check(args):
    for flag in ("vocabulary_size", "embedding_dim", "num_layers", "sequence_length", "epochs",
                 "batch_size"):
        value = getattr(args, flag)
        if value <= 0:
            raise UserValueError(f"`--{flag.replace('_', '-')}` must be > 0. Received: {value}")
    if args.limit_tokens is not None and args.limit_tokens <= args.sequence_length:
        raise UserValueError(f"`--limit-tokens` must exceed --sequence-length. "
                             f"Received: {args.limit_tokens}")
    if args.lr <= 0:
        raise UserValueError(f"`--lr` must be > 0. Received: {args.lr}")


def new_encoder(model_name, args):
    """`zoo.create(model_name)` sized by `args`, without a head: the encoder to pretrain."""
    import zoo

    from zoo import registry

    if registry.family(model_name).declaration("language_model") is None:
        raise UserValueError(f"The family of {model_name!r} declares no language model (a "
                             f"recurrent text classifier does). Received: model={model_name!r}")
    encoder = zoo.create(model_name, vocabulary_size=args.vocabulary_size,
                         sequence_length=args.sequence_length, embedding_dim=args.embedding_dim,
                         units=args.embedding_dim, num_layers=args.num_layers,
                         dropout=args.dropout, recurrent_dropout=args.recurrent_dropout,
                         pooling="mean", num_classes=None)
    return encoder


def language_model(encoder, model_name, **kwargs):
    """The language model the family of `model_name` declares over `encoder`."""
    from zoo import registry

    declared = registry.family(model_name).declaration("language_model")
    if declared is None:
        raise UserValueError(f"The family of {model_name!r} declares no language model (a "
                             f"recurrent text classifier does). Received: model={model_name!r}")
    return declared.language_model(encoder, **kwargs)


def finished_run(folder, flag, model_name):
    """(config, metrics) of the finished pretrain_text.py run in `folder`, which `flag`
    named; refused unless it holds all three files and pretrained `model_name`."""
    run_path = Path(folder or "")
    for name in ("config.json", "metrics.json", "model.keras"):
        if not (run_path / name).is_file():
            raise UserValueError(f"{run_path / name} is missing: {flag} must be a finished "
                                 f"pretrain_text.py run. Received: {flag} {folder!r}")
    config = json.loads((run_path / "config.json").read_text())
    if config.get("model") != model_name:
        raise UserValueError(f"The run pretrained {config.get('model')!r}, not {model_name!r}. "
                             f"Received: model={model_name!r}, {flag} {folder!r}")
    return config, json.loads((run_path / "metrics.json").read_text())


def load_init(args):
    """The language model of the run `--init-from`, checked against this run's sizes."""
    import keras

    finished_run(args.init_from, "--init-from", args.model)
    previous = keras.saving.load_model(Path(args.init_from) / "model.keras")
    wanted = {"vocabulary_size": args.vocabulary_size, "embedding_dim": args.embedding_dim,
              "num_layers": args.num_layers}
    found = {k: previous.encoder.get_config()[k] for k in wanted}
    if found != wanted:
        raise UserValueError(f"The run --init-from has sizes {found}, this run asks for "
                             f"{wanted}. Received: --init-from {args.init_from!r}")
    return previous


def heldout_windows(lm, corpus, batch_size=64):
    return lm.windows(lm.token_stream(corpus.texts("heldout")), batch_size, shuffle=False)


def pretrain(args, argv):
    """Trains the language model; returns (model, metrics, run dir)."""
    import keras
    import numpy as np

    import callbacks
    from zoo.datasets import corpora

    _check(args)
    parts = tuple(p for p in args.parts.split(",") if p)
    run_dir = RunDirectory(args.run_dir or Path("runs") / f"{args.model}-lm-"
                           f"{time.strftime('%Y%m%d-%H%M%S')}", overwrite=args.overwrite)
    run_dir.check()
    keras.utils.set_random_seed(args.seed)
    previous = load_init(args) if args.init_from else None
    corpus = corpora.load_corpus(parts)
    lm = language_model(new_encoder(args.model, args), args.model,
                        embedding_dropout=args.embedding_dropout,
                        output_dropout=args.output_dropout, seed=args.seed)
    if previous is None:
        lm.encoder.adapt(corpus.train.get("reviews") or corpus.texts("train"))
    else:  # the earlier run's vocabulary, so that its weights keep their meaning
        lm.set_weights(previous.get_weights())
        lm.encoder.vectorizer.set_vocabulary(previous.encoder.vectorizer.get_vocabulary())
    streams = {part: lm.token_stream(corpus.train[part]) for part in parts}
    train_ids = np.concatenate([streams[part] for part in parts])
    if args.limit_tokens:
        train_ids = train_ids[: args.limit_tokens]
    train = lm.windows(train_ids, args.batch_size, seed=args.seed)
    heldout_ids = lm.token_stream(corpus.texts("heldout")) if corpus.heldout else None
    heldout = None
    if heldout_ids is not None:
        heldout = lm.windows(heldout_ids, args.batch_size, shuffle=False)
    optimizer = keras.optimizers.Adam(args.lr, beta_1=0.8, beta_2=0.99)
    lm.compile(optimizer=optimizer)
    sizes = {part: int(len(ids)) for part, ids in streams.items()}
    config = {
        "command": "python scripts/pretrain_text.py " + shlex.join(argv),
        "args": vars(args),
        "model": args.model,
        "model_config": lm.get_config(),
        "corpus": {"parts": list(parts), "train_tokens": sizes,
                   "train_tokens_used": int(len(train_ids)),
                   "heldout_tokens": 0 if heldout_ids is None else int(len(heldout_ids)),
                   "sources": corpus.sources,
                   "licenses": {p: corpora.LICENSES[p] for p in parts}},
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "params": lm.count_params(),
    }
    run_dir.open(config)
    try:
        standard = callbacks.standard_callbacks(
            run_dir.path, schedule=callbacks.OneCycle(args.lr, pct_start=args.pct_start),
            monitor="val_loss" if heldout is not None else "loss", tensorboard=False,
        )
        start = time.time()
        history = lm.fit(train, validation_data=heldout, epochs=args.epochs,
                         callbacks=standard, verbose=args.verbose, shuffle=False)
        seconds = time.time() - start
        metrics = {"train_seconds": seconds, "epochs": args.epochs}
        if heldout is not None:
            metrics["heldout"] = lm.evaluation_metrics(heldout)
        write_json_atomic(run_dir.path / "history.json",
                          {k: [float(v) for v in vs] for k, vs in history.history.items()})
        write_json_atomic(run_dir.path / "metrics.json", metrics)
        with atomic_path(run_dir.path / "model.keras") as tmp:
            lm.save(tmp)
    finally:
        run_dir.close()
    return lm, metrics, run_dir.path


def encoder_model(model_name, lm):
    """`zoo.create(model_name)` without a head, holding `lm`'s encoder and vocabulary."""
    import zoo

    config = lm.encoder.get_config()
    kwargs = {k: config[k] for k in ("cell", "vocabulary_size", "sequence_length",
                                     "embedding_dim", "units", "num_layers", "bidirectional",
                                     "dropout", "recurrent_dropout", "pooling")}
    model = zoo.create(model_name, **kwargs, num_classes=None,
                       vocabulary=lm.encoder.vectorizer.get_vocabulary())
    model.set_weights(lm.encoder.get_weights())
    return model


def heldout_perplexity(encoder, model_name, batch_size=64):
    """The held-out loss and perplexity of the language model `encoder` defines."""
    from zoo.datasets import corpora

    lm = language_model(encoder, model_name)
    corpus = corpora.load_corpus(("reviews",))
    return lm.evaluation_metrics(heldout_windows(lm, corpus, batch_size))


def publish(args):
    """Writes the encoder of the run in --run-dir as the entry MODEL.TAG; returns the spec."""
    import keras

    from zoo import weights as zw
    from zoo.weights import loading

    run_path = Path(args.run_dir or "")
    config, metrics = finished_run(args.run_dir, "--run-dir", args.model)
    name = f"{args.model}.{args.publish}"
    from zoo import registry

    package_dir = Path(args.package_dir or registry.family(args.model).weights_folder)
    entry_path = package_dir / f"{name}.json"
    weights_file = package_dir / "files" / f"{name}.weights.h5"
    # an entry without --force, or a file no entry records, is refused before anything loads
    check_owned_entry(entry_path, weights_file, name, args.force)
    loading.check_finite_weights(run_path / "model.keras")
    model = encoder_model(args.model, keras.saving.load_model(run_path / "model.keras"))
    model_config = {**model.get_config(), "name": args.model}

    def entry(staged):
        return zw.WeightsSpec(
            name=name, model=args.model, model_config=model_config,
            url=f"package://files/{weights_file.name}", sha256=zw.sha256_of(staged),
            size=staged.stat().st_size, dataset="review_corpus", metrics={},
            evaluation_command=f"python scripts/pretrain_text.py {args.model} --weights "
                               f"{args.publish} --evaluate",
            params=int(model.count_params()), input_shape=(), preprocessing=PREPROCESSING,
            training_command=config["command"], license="Apache-2.0",
            dataset_license="; ".join(f"{k}: {v}"
                                      for k, v in config["corpus"]["licenses"].items()),
            trained_with={
                "backend": config.get("backend"), "keras_version": config.get("keras_version"),
                "epochs": metrics.get("epochs"), "train_seconds": metrics.get("train_seconds"),
                "corpus_tokens": config["corpus"]["train_tokens"],
                "heldout_tokens": config["corpus"]["heldout_tokens"],
                "language_model": {k: config["model_config"][k] for k in
                                   ("embedding_dropout", "output_dropout",
                                    "gradient_clip_norm")},
                "selection": {"weights": "the run's final epoch (model.keras)",
                              "metrics": "held-out review texts (scripts/train.py's "
                                         "validation split of the Pang & Lee training data), "
                                         "never trained on"},
            },
            root=str(package_dir),
        )

    # measured from a staged file, then the weights file and its entry commit together
    return commit_measured(model, entry_path, weights_file, entry,
                           lambda rebuilt: heldout_perplexity(rebuilt, args.model),
                           recheck=lambda: check_owned_entry(entry_path, weights_file, name,
                                                             args.force))


def evaluate(args):
    import keras

    import zoo

    if args.weights:
        return heldout_perplexity(zoo.create(args.model, weights=args.weights), args.model)
    lm = keras.saving.load_model(Path(args.run_dir or "") / "model.keras")
    if getattr(lm, "encoder", None) is None:
        raise UserValueError(f"{args.run_dir} does not hold a language model. "
                             f"Received: --run-dir {args.run_dir!r}")
    return heldout_perplexity(lm.encoder, args.model)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        if args.evaluate:
            if not (args.weights or args.run_dir):
                raise UserValueError("`--evaluate` needs --weights TAG or --run-dir. "
                                     "Received: neither")
            results = evaluate(args)
        elif args.publish:
            spec = publish(args)
            results = spec.metrics
            print(f"Published {spec.name}: {spec.size} bytes, sha256 {spec.sha256}")
        else:
            _, metrics, run_path = pretrain(args, argv)
            results = metrics.get("heldout", {})
            print(f"Run written to {run_path}")
    except USER_ERRORS as err:
        return report(err)
    for key, value in results.items():
        print(f"held-out {key}: {value:.4f}")
    return 0
