"""`scripts/publish_weights.py RUN_DIR --name NAME`: a finished training run -> a weights entry.

Reads the run written by `scripts/train.py` (config.json with the exact
command, metrics.json, model.keras), saves the model's weights as
`<package>/files/<name>.weights.h5`, records its sha256 and size, then
rebuilds the model from the entry exactly as users will
(`zoo.create(model, weights=tag)`) and measures it with the evaluation
command's code. The entry is written to `<package>/<name>.json`. Every check runs
before anything is written, and the weights file and its entry change together.
"""

import dataclasses
import json
import os
import sys
from pathlib import Path

from zoo.errors import UserValueError
from zoo.jobs import publish_artifacts
from zoo.jobs import quantize as quantize_job
from zoo.jobs.job_args import add_backend_arg
from zoo.utils.command_line import USER_ERRORS, ArgumentParser, one_line, report
from zoo.utils.files import fsync_dir, fsync_file, temporary_name

# Licences of the training data, recorded in each entry.
DATASET_LICENSES = {
    "fashion_mnist": "MIT (Zalando Research, Fashion-MNIST)",
    "mnist": "CC BY-SA 3.0 (Yann LeCun and Corinna Cortes, MNIST)",
    "movie_reviews": "Pang & Lee movie-review data (Cornell), personal use",
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
    p.add_argument("--int8", default=None, metavar="FORMATS",
                   help="also publish int8 artifacts: onnx, litert or onnx,litert "
                   "(docs/quantization.md)")
    p.add_argument("--calibration", default=None, metavar="DATASET[:N]",
                   help="--int8: training examples that calibrate the artifacts")
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
            dataset_license=None, batch_size=256, force=False, int8=None, calibration=None):
    """Writes the entry for the run in `run_dir`; returns its `WeightsSpec`.

    Every check runs first (the run, the name, the dataset, what `package_dir` holds);
    the weights are then saved under a temporary name and measured from there, and only
    a measured entry is committed: its weights file, then its JSON (the old pair is put
    back if the second step fails). `--force` replaces only an entry and the weights
    file it records (by sha256); a file the entries do not record is refused.

    `int8` ("onnx", "litert" or "onnx,litert") with `calibration`
    ("DATASET[:N]") also writes int8 artifacts beside the weights file and
    records them in the entry (`zoo.jobs.publish_artifacts`).
    """
    if int8 is not None:  # checked before any work
        int8 = publish_artifacts.check_formats(int8)
        for fmt in int8:
            quantize_job.request("int8", fmt, calibration)
    elif calibration is not None:
        raise UserValueError(f"`--calibration` goes with --int8. "
                             f"Received: --calibration {calibration}")
    import keras

    import zoo
    from zoo import weights as zw
    from zoo.jobs.evaluate import measure
    from zoo.weights import loading

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
    info = zoo.datasets.info(dataset)  # an unknown dataset is refused before any write
    if url is not None:
        zw.spec.check_url(url)
    if package_dir is None:  # the model's family's weights folder
        from zoo import registry

        package_dir = registry.family(model_name).weights_folder
    package_dir = Path(package_dir)
    entry_path = package_dir / f"{name}.json"
    weights_file = package_dir / "files" / f"{name}.weights.h5"
    check_owned_entry(entry_path, weights_file, name, force)
    loading.check_finite_weights(model_file)

    trained = keras.saving.load_model(model_file)
    model_config = config.get("model_config") or trained.get_config()
    # A fresh, uncompiled model: the file holds the model's variables, no optimizer slots.
    model = type(trained).from_config(model_config)
    model.set_weights(trained.get_weights())
    tag = name[len(model_name) + 1:]

    def entry(staged):
        return zw.WeightsSpec(
            name=name,
            model=model_name,
            model_config=json.loads(json.dumps(model_config)),
            url=url or f"package://files/{weights_file.name}",
            sha256=zw.sha256_of(staged),
            size=staged.stat().st_size,
            dataset=dataset,
            metrics={},  # measured on the staged entry
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

    def with_int8(spec, rebuilt):
        if not int8:
            return spec
        return dataclasses.replace(spec, artifacts=publish_artifacts.int8_artifacts(
            spec, rebuilt, int8, calibration, weights_file.parent,
            url_base=url.rsplit("/", 1)[0] + "/" if url else "package://files/"))

    return commit_measured(model, entry_path, weights_file, entry,
                           lambda rebuilt: measure(rebuilt, dataset, batch_size),
                           recheck=lambda: check_owned_entry(entry_path, weights_file, name,
                                                             force),
                           extend=with_int8)


def commit_measured(model, entry_path, weights_file, entry, measure, recheck, extend=None):
    """Publishes `model`'s weights as the entry at `entry_path`; returns its `WeightsSpec`.

    The weights are saved under a temporary name beside `weights_file`, `entry(staged)`
    builds the entry, the model rebuilt from the staged entry exactly as users will
    (`zoo.create(model, weights=tag)`, weights fetched and verified) is measured
    (`measure(rebuilt)` -> metrics), and only then are the weights file and the entry
    committed together, under the zoo's output lock and after `recheck()` (the
    `check_owned_entry` that ran before any work: another publisher may have written
    meanwhile). `extend(spec, rebuilt)`, if given, adds to the measured entry (int8
    artifacts). Nothing is in place before it is measured; a failure removes what was
    staged and the folders it created.
    """
    from zoo import weights as zw
    from zoo.utils.ownership import replacing_outputs

    created = [d for d in (entry_path.parent, weights_file.parent) if not d.exists()]
    weights_file.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(temporary_name(weights_file))
    try:
        model.save_weights(str(staged))
        spec = entry(staged)
        staging = dataclasses.replace(spec, url=f"package://files/{staged.name}")
        if not spec.url.startswith("package://"):
            zw.store.copy_into_cache(staged, spec)  # the url may not be live yet
        rebuilt = zw.create_with_weights(spec.model, staging)
        spec = dataclasses.replace(
            spec, metrics={k: float(v) for k, v in measure(rebuilt).items()})
        if extend is not None:
            spec = extend(spec, rebuilt)
        with replacing_outputs():  # one publisher at a time from the check to the commit
            recheck()
            _commit(staged, weights_file, spec, entry_path)
    except BaseException:
        staged.unlink(missing_ok=True)
        for folder in reversed(created):
            _remove_empty(folder)
        raise
    return spec


def check_owned_entry(entry_path, weights_file, name, force):
    """Refuses what publishing must not replace: an entry without --force, a file that is
    not a weights entry, and a weights file no entry records (by its sha256)."""
    from zoo import weights as zw
    from zoo.utils.ownership import OwnershipError

    recorded = None
    if entry_path.exists() or entry_path.is_symlink():
        if not force:
            raise UserValueError(
                f"{entry_path} exists; pass --force to replace it. Received: name={name!r}"
            )
        try:
            recorded = zw.WeightsSpec.read(entry_path)
        except (ValueError, TypeError) as err:
            raise OwnershipError(
                f"{entry_path} is not a weights entry the zoo wrote ({one_line(err)}): it is "
                f"not replaced, --force included. Received: name={name!r}") from None
        if recorded.name != name or entry_path.is_symlink():
            raise OwnershipError(
                f"{entry_path} holds the entry {recorded.name!r}, not {name!r}: it is not "
                f"replaced, --force included. Received: name={name!r}")
    if weights_file.exists() or weights_file.is_symlink():
        if (recorded is None or weights_file.is_symlink() or not weights_file.is_file()
                or zw.sha256_of(weights_file) != recorded.sha256):
            raise OwnershipError(
                f"{weights_file} is not the weights file of an entry (no entry records its "
                "sha256): publishing does not replace it, --force included. Move it away. "
                f"Received: name={name!r}")


def _commit(staged, weights_file, spec, entry_path):
    """The weights file, then the entry; on a failure of either, the old pair is back."""
    backup = Path(temporary_name(weights_file)) if weights_file.exists() else None
    if backup is not None:
        os.link(weights_file, backup)  # the old bytes keep a name until the entry is in
    try:
        fsync_file(staged)
        os.replace(staged, weights_file)
        spec.write(entry_path)
    except BaseException:
        if backup is not None:
            os.replace(backup, weights_file)
        else:
            weights_file.unlink(missing_ok=True)
        raise
    if backup is not None:
        backup.unlink(missing_ok=True)
    fsync_dir(weights_file.parent)


def _remove_empty(folder):
    try:
        folder.rmdir()
    except OSError:
        pass


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        spec = publish(
            args.run_dir, args.name, dataset=args.dataset, package_dir=args.package_dir,
            url=args.url, license=args.license, dataset_license=args.dataset_license,
            batch_size=args.batch_size, force=args.force, int8=args.int8,
            calibration=args.calibration,
        )
    except USER_ERRORS as err:
        return report(err)
    for key, value in spec.metrics.items():
        print(f"{key}: {value:.4f}")
    print(f"Published {spec.name}: {spec.size} bytes, sha256 {spec.sha256}")
    for a in spec.artifacts:
        print(f"  {a.quantization} {a.format} ({a.method}): {a.size} bytes, sha256 {a.sha256}, "
              f"test accuracy {a.metrics.get('accuracy'):.4f}")
    return 0
