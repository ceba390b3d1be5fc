"""`scripts/evaluate.py MODEL --weights NAME --dataset D`: print the test metrics.

MODEL is a registered name with `--weights` (a name alone is refused: an untrained
model's score means nothing), or a `.keras` file / run directory.
What is measured is the model's own `evaluation_metrics` (classifiers:
accuracy and loss on the test split).
"""

import json
import sys
import zipfile
from pathlib import Path

from zoo.errors import UserValueError
from zoo.evaluation import evaluate
from zoo.jobs.job_args import add_backend_arg
from zoo.utils.command_line import USER_ERRORS, ArgumentParser, report


def build_parser():
    p = ArgumentParser(
        prog="evaluate.py", description="Evaluate a zoo model on a test split."
    )
    p.add_argument("model", help="registered name, a .keras file, or a run directory")
    p.add_argument(
        "--weights",
        default=None,
        help="published weights tag (e.g. fashion_mnist) or a .weights.h5 path",
    )
    p.add_argument("--dataset", default="fashion_mnist")
    p.add_argument("--batch-size", type=int, default=256)
    add_backend_arg(p)
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument(
        "--feature-model",
        default=None,
        help="generative models: classifier (run dir or .keras) whose penultimate "
        "layer gives the FID features (default: mlp fashion_mnist weights)",
    )
    return p


def load_model(spec, weights=None):
    import keras

    import zoo

    path = Path(spec)
    if path.is_dir():
        path = path / "model.keras"
    if path.suffix == ".keras":
        if not path.is_file():
            raise UserValueError(f"No model file at {path}. Received: model={spec!r}")
        if weights is not None:
            raise UserValueError(
                "`--weights` goes with a registered model name, not a saved model. "
                f"Received: model={spec!r}, weights={weights!r}"
            )
        if not zipfile.is_zipfile(path):  # keras would say "File not found"
            raise UserValueError(f"{path} is not a readable .keras model (not a zip archive). "
                                 f"Received: model={spec!r}")
        from zoo.weights.loading import check_finite_weights

        check_finite_weights(path)
        try:
            return keras.saving.load_model(path)
        except (zipfile.BadZipFile, KeyError, OSError) as err:
            raise UserValueError(f"{path} is not a readable .keras model ({err}). "
                                 f"Received: model={spec!r}") from None
    if weights is None:
        zoo.registry.get(spec)  # an unknown name says so first
        published = [w.tag for w in zoo.list_weights(f"{spec}.*")]
        raise UserValueError(
            f"{spec!r} alone is an untrained model, and its score would mean nothing. Pass "
            f"--weights TAG (published for {spec}: {', '.join(published) or 'none'}) or a "
            ".weights.h5 path, or give a run directory or .keras file. "
            f"Received: model={spec!r} without --weights"
        )
    return zoo.create(spec, weights=weights)


def measure(model, dataset, batch_size=256, feature_model=None):
    """The model's `evaluation_metrics` on the test split of `dataset`.

    A model fresh from `zoo.create(..., weights=...)` is not compiled yet; it
    gets the family's default loss and metrics (no training happens).
    `feature_model` goes to generative families (the classifier of their FID).
    """
    import zoo

    if feature_model is not None and not callable(getattr(model, "generate", None)):
        raise UserValueError(
            f"`--feature-model` applies to generative models; {type(model).__name__} "
            f"takes none. Received: --feature-model {feature_model}"
        )

    players = getattr(model, "players", None)
    if not getattr(model, "compiled", False) and (players is None or players() is None):
        model.compile()
    _, test = zoo.datasets.load(dataset, batch_size=batch_size, shuffle=False)
    return evaluate(model, test, dataset=dataset, feature_model=feature_model)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)

    try:
        if args.batch_size <= 0:
            raise UserValueError(f"`--batch-size` must be > 0. Received: {args.batch_size}")
        model = load_model(args.model, args.weights)
        results = measure(model, args.dataset, args.batch_size, args.feature_model)
    except USER_ERRORS as err:
        return report(err)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return 0
