"""`scripts/train.py MODEL --dataset D ...`: train with `fit`, evaluate, save the run.

The run directory receives `config.json` (the resolved configuration and the
exact command), `history.json`, `metrics.json` (test metrics) and `model.keras`.
"""

import argparse
import inspect
import json
import os
import shlex
import sys
import time
from pathlib import Path


def build_parser():
    p = argparse.ArgumentParser(
        prog="train.py", description="Train a zoo model with keras fit and evaluate it."
    )
    p.add_argument("model", help="registered model name (see `zoo list`)")
    p.add_argument("--dataset", default="fashion_mnist", help="dataset name (see zoo.datasets)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--optimizer", default="adam", help="adam, sgd, or any keras optimizer name")
    p.add_argument("--lr", type=float, default=None, help="learning rate (optimizer default if unset)")
    p.add_argument("--momentum", type=float, default=None,
                   help="SGD momentum (default 0.9) or Adam beta_1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None)
    p.add_argument("--run-dir", default=None, help="where to write the run (default runs/MODEL-DATASET-TIME)")
    p.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="constructor argument, Python literal value (repeatable), e.g. hidden_units=(512,256)")
    p.add_argument("--mixed-precision", choices=["mixed_float16", "mixed_bfloat16"], default=None)
    p.add_argument("--verbose", type=int, default=1, help="keras fit verbosity (1: progress bar)")
    return p


def parse_model_args(items):
    import ast

    kwargs = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"`--model-arg` must be KEY=VALUE. Received: {item!r}")
        key, value = item.split("=", 1)
        try:
            kwargs[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            kwargs[key] = value
    return kwargs


def make_optimizer(name, lr=None, momentum=None):
    """A keras optimizer by name, with the learning rate and momentum given."""
    import keras

    from zoo.training.base import _check_positive_number, _resolve_optimizer

    _check_positive_number("lr", lr)
    if momentum is not None and not 0 <= momentum < 1:
        raise ValueError(f"`momentum` must be in [0, 1). Received: momentum={momentum!r}")
    optimizer = _resolve_optimizer(name)
    config = optimizer.get_config()
    if lr is not None:
        config["learning_rate"] = lr
    if "momentum" in config and isinstance(optimizer, keras.optimizers.SGD):
        config["momentum"] = 0.9 if momentum is None else float(momentum)
    elif momentum is not None:
        if "beta_1" in config:
            config["beta_1"] = float(momentum)
        elif "momentum" in config:
            config["momentum"] = float(momentum)
        else:
            raise ValueError(
                f"Optimizer {name!r} has no momentum. Received: momentum={momentum!r}"
            )
    return type(optimizer).from_config(config)


def dataset_model_kwargs(model_name, dataset_info, given):
    """`input_shape`/`num_classes` from the dataset, where the family takes them."""
    from zoo.registry import _entry

    params = inspect.signature(_entry(model_name).cls.__init__).parameters
    kwargs = {}
    if "input_shape" in params and "input_shape" not in given and dataset_info["kind"] == "image":
        kwargs["input_shape"] = tuple(dataset_info["input_shape"])
    if "num_classes" in params and "num_classes" not in given:
        kwargs["num_classes"] = dataset_info["num_classes"]
    return kwargs


def default_run_dir(model, dataset):
    return Path("runs") / f"{model}-{dataset}-{time.strftime('%Y%m%d-%H%M%S')}"


def run(args, argv, extra_callbacks=()):
    """Trains as `args` say; returns (model, test metrics dict, run dir)."""
    import keras

    import zoo

    if args.epochs <= 0:
        raise ValueError(f"`--epochs` must be > 0. Received: {args.epochs}")
    zoo.registry._entry(args.model)  # unknown names fail before any data loads
    model_kwargs = parse_model_args(args.model_arg)
    optimizer = make_optimizer(args.optimizer, args.lr, args.momentum)
    if args.mixed_precision:
        keras.config.set_dtype_policy(args.mixed_precision)
    keras.utils.set_random_seed(args.seed)

    info = zoo.datasets.info(args.dataset)
    model_kwargs = {**dataset_model_kwargs(args.model, info, model_kwargs), **model_kwargs}
    model = zoo.create(args.model, **model_kwargs)
    train, test = zoo.datasets.load(args.dataset, batch_size=args.batch_size, seed=args.seed)
    model.adapt(train)
    model.compile(optimizer=optimizer)

    run_dir = Path(args.run_dir or default_run_dir(args.model, args.dataset))
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "command": "python scripts/train.py " + shlex.join(argv),
        "args": vars(args),
        "model": args.model,
        "model_config": model.get_config(),
        "optimizer": keras.optimizers.serialize(model.optimizer),
        "dataset": args.dataset,
        "dataset_source": str(info.get("source")),
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "params": model.count_params(),
    }
    _write_json(run_dir / "config.json", config)

    callbacks = list(extra_callbacks) + list(model.default_callbacks(str(run_dir)))
    start = time.time()
    history = model.fit(
        train, validation_data=test, epochs=args.epochs, callbacks=callbacks, verbose=args.verbose
    )
    wall = time.time() - start
    _write_json(run_dir / "history.json", {k: [float(v) for v in vs] for k, vs in history.history.items()})
    results = model.evaluate(test, return_dict=True, verbose=0)
    results = {k: float(v) for k, v in results.items()}
    _write_json(run_dir / "metrics.json", {"test": results, "train_seconds": wall, "epochs": args.epochs})
    model.save(run_dir / "model.keras")
    return model, results, run_dir


def _write_json(path, obj):
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    os.replace(tmp, path)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        _, results, run_dir = run(args, argv)
    except (ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for key, value in results.items():
        print(f"test {key}: {value:.4f}")
    print(f"Run written to {run_dir}")
    return 0
