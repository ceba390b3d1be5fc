"""`scripts/bench.py generative`: the FID-FMNIST table, with its two references.

Prints, for Fashion-MNIST, the Fréchet distance in the feature model's
penultimate layer between 10,000 images and the 10,000 test images for:
uniform-noise images, 10,000 training images (seeded draw), and each trained
run given (its `evaluation_metrics`: samples for the VAE and GANs, plus the
VAE's test ELBO; reconstruction error for the autoencoders).

    python scripts/bench.py generative --feature-model runs/fid-mlp runs/vae runs/dcgan
"""

import argparse
import json
import time

import numpy as np


def build_parser():
    p = argparse.ArgumentParser(prog="bench.py generative", description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="*", help="run directories (or .keras files) of generative models")
    p.add_argument("--feature-model", default=None,
                   help="classifier run dir / .keras (default: zoo mlp fashion_mnist weights)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the noise, the training draw and the samples")
    p.add_argument("--json", default=None, help="also write the rows to this JSON file")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    import zoo
    from zoo.evaluation import FID_SAMPLES, fid, load_feature_model, uniform_noise_images
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
        kwargs = {"dataset": "fashion_mnist"}
        if "feature_model" in __import__("inspect").signature(model.evaluation_metrics).parameters:
            kwargs.update(feature_model=features, seed=args.seed)
        figures = model.evaluation_metrics(x_test, **kwargs)
        add(run, {k: float(v) for k, v in figures.items()}, time.time() - start)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0
