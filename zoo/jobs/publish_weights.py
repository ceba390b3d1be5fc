"""`scripts/publish_weights.py RUN_DIR --name NAME`: a finished training run -> a weights entry.

Reads the run written by `scripts/train.py` (config.json with the exact
command, metrics.json, model.keras), saves the model's weights as
`<package>/files/<name>.weights.h5`, records its sha256 and size, then
rebuilds the model from the entry exactly as users will
(`zoo.create(model, weights=tag)`) and measures it with the evaluation
command's code. The entry is written to `<package>/<name>.json`.
"""

import dataclasses
import json
import sys
from pathlib import Path

from zoo.errors import UserValueError
from zoo.jobs.job_args import add_backend_arg
from zoo.utils.command_line import USER_ERRORS, ArgumentParser, report
from zoo.utils.files import atomic_path

# Licences of the training data, recorded in each entry.
DATASET_LICENSES = {
    "fashion_mnist": "MIT (Zalando Research, Fashion-MNIST)",
    "mnist": "CC BY-SA 3.0 (Yann LeCun and Corinna Cortes, MNIST)",
}

PREPROCESSING = {
    "image": "uint8 pixels scaled to float32 in [0, 1] (x / 255), NHWC, "
             "as zoo.datasets.load gives them",
    "text": "raw strings (the model holds its own text vectorization)",
    "tokens": "integer word ids padded at the end (keras.datasets.imdb ids)",
}


#: the range of the inputs after PREPROCESSING, checked by models built from the entry
INPUT_RANGES = {"image": (0.0, 1.0)}


def build_parser():
    p = ArgumentParser(
        prog="publish_weights.py",
        description="Turn a finished scripts/train.py run into a published weights entry.",
    )
    p.add_argument("run_dir", help="run directory written by scripts/train.py")
    p.add_argument("--name", required=True,
                   help="entry name: '<model>.<tag>' or just the tag (e.g. fashion_mnist)")
    p.add_argument("--dataset", default=None, help="evaluation dataset (default: the run's)")
    p.add_argument("--package-dir", default=None,
                   help="where the entry and files/ go (default: the model's family's weights/ "
                        "folder, zoo/models/<family>/weights)")
    p.add_argument("--url", default=None,
                   help="where users fetch the file (default: package://files/<name>.weights.h5)")
    p.add_argument("--license", default="Apache-2.0", help="licence of the weights")
    p.add_argument("--dataset-license", default=None, help="licence of the training data")
    p.add_argument("--batch-size", type=int, default=256, help="evaluation batch size")
    p.add_argument("--force", action="store_true", help="replace an existing entry")
    add_backend_arg(p)
    return p


def _read_json(path):
    if not path.is_file():
        raise UserValueError(
            f"{path} is missing: RUN_DIR must be a finished scripts/train.py run. "
            f"Received: run_dir={str(path.parent)!r}"
        )
    return json.loads(path.read_text())


def selection(config):
    """Which split chose what, for a weights entry: from the run's `config.json`."""
    data = config.get("data")
    if data is None:
        return {
            "weights": "the run's final epoch (model.keras); no checkpoint was chosen",
            "validation": "none: the run predates --validation-split and showed the test "
            "split as its validation data; nothing was selected on it",
            "metrics": "test split, measured once by evaluation_command",
        }
    return {
        "weights": "the run's final epoch (model.keras)",
        "validation": f"{data.get('validation', 0)} examples "
        f"({data.get('validation_split')} of the training data, seed "
        f"{data.get('validation_seed')}), for monitoring and the run's best.keras",
        "metrics": "test split, measured once by evaluation_command",
    }


def publish(run_dir, name, dataset=None, package_dir=None, url=None, license="Apache-2.0",
            dataset_license=None, batch_size=256, force=False):
    """Writes the entry for the run in `run_dir`; returns its `WeightsSpec`."""
    import keras

    import zoo
    from zoo import weights as zw
    from zoo.jobs.evaluate import measure

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserValueError(f"`run_dir` is not a directory. Received: run_dir={str(run_dir)!r}")
    config = _read_json(run_dir / "config.json")
    metrics = _read_json(run_dir / "metrics.json")
    model_file = run_dir / "model.keras"
    if not model_file.is_file():
        raise UserValueError(f"{model_file} is missing. Received: run_dir={str(run_dir)!r}")
    model_name = config.get("model")
    if not isinstance(model_name, str) or "command" not in config:
        raise UserValueError(f"{run_dir / 'config.json'} is not a scripts/train.py record (no "
                             f"model or command). Received: run_dir={str(run_dir)!r}")
    if "." not in name or not name.startswith(model_name + "."):
        if "." in name:
            raise UserValueError(
                f"`name` must start with the run's model {model_name!r}. Received: name={name!r}"
            )
        name = f"{model_name}.{name}"
    dataset = dataset or config.get("dataset")
    if package_dir is None:  # the model's family's weights folder
        from zoo import registry

        package_dir = registry.family(model_name).weights_folder
    package_dir = Path(package_dir)
    entry_path = package_dir / f"{name}.json"
    if entry_path.exists() and not force:
        raise UserValueError(
            f"{entry_path} exists; pass --force to replace it. Received: name={name!r}"
        )

    trained = keras.saving.load_model(model_file)
    model_config = config.get("model_config") or trained.get_config()
    # A fresh, uncompiled model: the file holds the model's variables, no optimizer slots.
    model = type(trained).from_config(model_config)
    model.set_weights(trained.get_weights())
    files = package_dir / "files"
    files.mkdir(parents=True, exist_ok=True)
    weights_file = files / f"{name}.weights.h5"
    with atomic_path(weights_file) as tmp:
        model.save_weights(tmp)

    info = zoo.datasets.info(dataset)
    tag = name[len(model_name) + 1:]
    spec = zw.WeightsSpec(
        name=name,
        model=model_name,
        model_config=json.loads(json.dumps(model_config)),
        url=url or f"package://files/{weights_file.name}",
        sha256=zw.sha256_of(weights_file),
        size=weights_file.stat().st_size,
        dataset=dataset,
        metrics={},  # measured below
        evaluation_command=(
            f"python scripts/evaluate.py {model_name} --weights {tag} --dataset {dataset}"
        ),
        params=int(model.count_params()),
        input_shape=tuple(model_config.get("input_shape") or info["input_shape"]),
        preprocessing=PREPROCESSING.get(info["kind"], info["kind"]),
        input_range=INPUT_RANGES.get(info["kind"]),
        training_command=config["command"],
        license=license,
        dataset_license=dataset_license
        or DATASET_LICENSES.get(dataset, "see the dataset's source"),
        trained_with={
            "backend": config.get("backend"),
            "keras_version": config.get("keras_version"),
            "epochs": metrics.get("epochs"),
            "train_seconds": metrics.get("train_seconds"),
            "test_metrics_at_training": metrics.get("test"),
            "selection": selection(config),
        },
        root=str(package_dir),
    )
    # Measured on the model users get: rebuilt from the entry, weights fetched and verified.
    if not spec.url.startswith("package://"):
        zw.store.copy_into_cache(weights_file, spec)  # the url may not be live yet
    rebuilt = zw.create_with_weights(model_name, spec)
    measured = measure(rebuilt, dataset, batch_size)
    spec = dataclasses.replace(spec, metrics={k: float(v) for k, v in measured.items()})
    spec.write(entry_path)
    return spec


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        spec = publish(
            args.run_dir, args.name, dataset=args.dataset, package_dir=args.package_dir,
            url=args.url, license=args.license, dataset_license=args.dataset_license,
            batch_size=args.batch_size, force=args.force,
        )
    except USER_ERRORS as err:
        return report(err)
    for key, value in spec.metrics.items():
        print(f"{key}: {value:.4f}")
    print(f"Published {spec.name}: {spec.size} bytes, sha256 {spec.sha256}")
    return 0
