"""`scripts/evaluate.py MODEL --weights NAME --dataset D`: print the test metrics.

MODEL is a registered name with `--weights` (a name alone is refused: an untrained
model's score means nothing), or a `.keras` file / run directory.
What is measured is the model's own `evaluation_metrics` (classifiers:
accuracy and loss on the test split).

MODEL may also be an image classifier's deployment artifact, an `.onnx` or
`.tflite` file from `scripts/export.py` (float or int8): it runs in its own
runtime (ONNX Runtime, LiteRT) on the test split, given what it takes (raw
uint8 images, or x / 255 as float32), and its top-1 accuracy is printed.
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
    p.add_argument("model", help="registered name, a .keras file, a run directory, or an "
                   "exported image classifier (.onnx, .tflite)")
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


#: the deployment artifacts `measure_artifact` scores, by suffix
ARTIFACTS = {".onnx": "onnx", ".tflite": "litert"}


def measure_artifact(path, dataset, batch_size=256):
    """Top-1 accuracy of an exported image classifier on the test split of `dataset`.

    The artifact (`.onnx`, `.tflite`; float or int8) runs in its own runtime
    on the test images as it takes them: raw uint8, or float32 x / 255 (the
    scaling of `zoo.datasets`).

    Args:
        path: the artifact file.
        dataset: an image dataset of `zoo.datasets` ("fashion_mnist").
        batch_size: images per call.

    Returns:
        {"accuracy", "examples", "format", "input_dtype"}.

    Example:

    ```python
    measure_artifact("r20.int8.onnx", "fashion_mnist")["accuracy"]   # 0.9359
    ```
    """
    import numpy as np

    import zoo
    from zoo.jobs import export as export_job

    path = Path(path)
    format = ARTIFACTS.get(path.suffix)
    flag = f"model={str(path)!r}"
    if format is None:
        raise UserValueError(f"Deployment artifacts are {' or '.join(ARTIFACTS)} files. "
                             f"Received: {flag}")
    if not path.is_file():
        raise UserValueError(f"No artifact file there. Received: {flag}")
    info = zoo.datasets.info(dataset)
    if info["kind"] != "image":
        raise UserValueError(f"Artifacts are scored on image datasets (a text artifact "
                             f"takes token ids: see its .vocabulary.json). Received: --dataset "
                             f"{dataset}")
    export_job.check_dependencies(format, "tensorflow", runtime=True, exporter=False)
    runner = export_job.load_artifact(path, format)
    want, have = tuple(info["input_shape"]), runner.input_shape
    if runner.input_dtype not in ("uint8", "float32") or len(have) != len(want) or any(
            h not in (None, w) for h, w in zip(have, want)):
        raise UserValueError(f"The artifact takes {runner.input_dtype} {have}, {dataset} images "
                             f"are uint8 {want}. Received: {flag}, --dataset {dataset}")
    _, (images, labels) = zoo.datasets.load_arrays(dataset)
    predicted = []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size]
        logits = runner(x if runner.input_dtype == "uint8" else x.astype("float32") / 255.0)
        if logits.ndim != 2 or logits.shape[1] != info["num_classes"]:
            raise UserValueError(f"The artifact gives {logits.shape[1:]} per image, not "
                                 f"{info['num_classes']} class logits. Received: {flag}")
        predicted.append(logits.argmax(axis=1))
    accuracy = float((np.concatenate(predicted) == labels).mean())
    return {"accuracy": accuracy, "examples": int(len(labels)), "format": format,
            "input_dtype": runner.input_dtype}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)

    try:
        if args.batch_size <= 0:
            raise UserValueError(f"`--batch-size` must be > 0. Received: {args.batch_size}")
        if Path(args.model).suffix in ARTIFACTS:
            if args.weights is not None or args.feature_model is not None:
                raise UserValueError(f"An exported artifact holds its weights: drop --weights "
                                     f"and --feature-model. Received: model={args.model!r}")
            results = measure_artifact(args.model, args.dataset, args.batch_size)
        else:
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
