"""`scripts/bench.py generative`: the FID-FMNIST table, and array-fed training runs.

`fid` (the default) prints, for Fashion-MNIST, the Fréchet distance in the
feature model's penultimate layer between 10,000 images and the 10,000 test
images for: uniform-noise images, 10,000 training images (seeded draw), and
each run given (its `evaluation_metrics`: samples for the VAE and GANs, with
the VAE's test ELBO; reconstruction error for the autoencoders).

    python scripts/bench.py generative fid --feature-model runs/fid-mlp runs/vae runs/dcgan

`train` trains a family with its `compile()` defaults on the Fashion-MNIST
arrays (no tf.data: it runs where TensorFlow is absent, e.g. a GPU host with
KERAS_BACKEND=torch), for `--epochs` or until `--max-seconds` have passed at
an epoch's end, and writes `model.keras` and `train.json` to `--run-dir`.

    KERAS_BACKEND=torch python scripts/bench.py generative train wgan_gp --epochs 20 \\
        --max-seconds 150 --run-dir runs/gpu-wgan_gp
"""

import shlex
import sys
import time

import numpy as np

from zoo.utils.command_line import ArgumentParser
from zoo.utils.ownership import write_output_json
from zoo.errors import UserValueError


def build_parser():
    p = ArgumentParser(prog="bench.py generative", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command")
    fid = sub.add_parser("fid", help="the FID-FMNIST table")
    fid.add_argument("runs", nargs="*", help="run directories or .keras files of generative models")
    fid.add_argument("--feature-model", default=None,
                     help="classifier run dir / .keras (default: zoo mlp fashion_mnist weights)")
    fid.add_argument("--seed", type=int, default=0,
                     help="seed of the noise, the training draw and the samples")
    fid.add_argument("--json", default=None, help="also write the rows to this JSON file")
    train = sub.add_parser("train", help="train a family on the Fashion-MNIST arrays")
    train.add_argument("model", help="registered generative family, e.g. wgan_gp")
    train.add_argument("--run-dir", required=True)
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--max-seconds", type=float, default=None,
                       help="stop at the end of the first epoch past this wall time")
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE")
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("fid", "train", "-h", "--help"):
        argv = ["fid"] + argv
    args = build_parser().parse_args(argv)
    if args.command == "train":
        return train(args, argv)
    return fid_table(args)


def fid_table(args):
    import zoo
    from zoo.evaluation import (
        FID_SAMPLES,
        evaluate,
        fid,
        load_feature_model,
        uniform_noise_images,
    )
    from zoo.jobs.evaluate import load_model

    (x_train, _), (x_test, _) = zoo.datasets.load_arrays("fashion_mnist")
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    features = load_feature_model(args.feature_model)
    rows = []

    def add(name, figures, seconds):
        rows.append({"name": name, **figures, "seconds": round(seconds, 1)})
        shown = ", ".join(f"{k}={v:.4f}" for k, v in figures.items())
        print(f"| {name} | {shown} | {seconds:.0f} s |", flush=True)

    print(f"feature model: {args.feature_model or 'mlp fashion_mnist weights'}; "
          f"{FID_SAMPLES} images vs the {len(x_test)} test images")
    start = time.time()
    noise = uniform_noise_images(FID_SAMPLES, x_test.shape[1:], seed=args.seed)
    add("uniform noise", {"fid_fmnist": fid(noise, x_test, features)}, time.time() - start)
    start = time.time()
    pick = np.random.default_rng(args.seed).choice(len(x_train), FID_SAMPLES, replace=False)
    add("training set (10,000 drawn)", {"fid_fmnist": fid(x_train[pick], x_test, features)},
        time.time() - start)
    for run in args.runs:
        start = time.time()
        model = load_model(run)
        generative = callable(getattr(model, "generate", None))
        figures = evaluate(model, x_test, dataset="fashion_mnist",
                           feature_model=features if generative else None, seed=args.seed)
        add(run, {k: float(v) for k, v in figures.items()}, time.time() - start)
    if args.json:
        write_output_json(args.json, rows, "--json")
    return 0


def _device_name():
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
        if backend == "jax":
            import jax

            return jax.devices()[0].device_kind
    except Exception:  # a label only: never fail a finished run over it
        pass
    return "cpu"


def train(args, argv):
    import keras

    import zoo
    from zoo.jobs.job_args import parse_model_args
    from zoo.utils.ownership import OwnedDirectory

    # the run directory goes through the zoo's guard: a folder holding anything a run
    # does not write is refused, and every check comes before the first write
    run = OwnedDirectory(args.run_dir, ("model.keras", "train.json"), what="benchmark run",
                         flag="--run-dir")
    run.check()
    for flag in ("epochs", "batch_size"):
        if getattr(args, flag) <= 0:
            raise UserValueError(f"`--{flag.replace('_', '-')}` must be > 0. "
                                 f"Received: {getattr(args, flag)}")
    zoo.registry.get(args.model)
    keras.utils.set_random_seed(args.seed)
    (x_train, _), _ = zoo.datasets.load_arrays("fashion_mnist")
    x_train = x_train.astype("float32") / 255.0
    model = zoo.create(args.model, **parse_model_args(args.model_arg))
    model.compile()  # the family's own optimizer settings
    run.open()
    try:
        _train(args, argv, model, x_train, run.path)
    finally:
        run.lock.release()
    return 0


def _train(args, argv, model, x_train, run_dir):
    import keras

    from zoo.utils.files import atomic_path, write_json_atomic

    start = time.time()

    class WallBudget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if args.max_seconds is not None and time.time() - start > args.max_seconds:
                self.model.stop_training = True

    history = model.fit(x_train, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                        callbacks=[WallBudget()], verbose=2)
    seconds = time.time() - start
    with atomic_path(run_dir / "model.keras") as tmp:
        model.save(tmp)
    record = {
        "command": "python scripts/bench.py generative " + shlex.join(argv),
        "model": args.model,
        "epochs_run": len(history.epoch),
        "train_seconds": round(seconds, 1),
        "backend": keras.backend.backend(),
        "device": _device_name(),
        "optimizer": keras.optimizers.serialize(model.optimizer),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
    }
    write_json_atomic(run_dir / "train.json", record)
    print(f"{args.model}: {record['epochs_run']} epochs in {seconds:.0f} s on "
          f"{record['backend']} / {record['device']}; written to {run_dir}")
