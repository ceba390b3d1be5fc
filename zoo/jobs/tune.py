"""`scripts/tune.py MODEL --dataset D --algorithm A --max-trials N --epochs E --directory DIR`.

Runs a keras-tuner search over the model's search space (zoo/models/<family>/<family>_tuning.py)
on a validation split of the training data, with keras-tuner's progress
output; then prints a table of the trials, evaluates the best model on the
test split and writes, under DIR/PROJECT: `best_hyperparameters.json`,
`best_model.keras`, and TensorBoard logs with HParams per trial (`logs/`).

Running the same command again resumes the search (finished trials are not
run again; an interrupted one is run again from its own seed, to the same
score); other settings than the recorded ones are refused, each named, except
a larger `--max-trials`. With KERASTUNER_TUNER_ID / KERASTUNER_ORACLE_IP /
KERASTUNER_ORACLE_PORT set, it is one process of a distributed search:
the chief ("chief") hands out trials and writes the results, workers
("tuner0", "tuner1", ...) run them.
"""

import json
import shlex
import sys
import time
from pathlib import Path

from zoo import compat
from zoo.errors import UserValueError
from zoo.evaluation import evaluate
from zoo.jobs.job_args import add_backend_arg, dataset_model_kwargs, parse_model_args
from zoo.tuning.tuners import check_resume
from zoo.utils.command_line import USER_ERRORS, ArgumentParser, report
from zoo.utils.files import atomic_path, write_json_atomic
from zoo.utils.ownership import OwnedDirectory, remove_temporaries


class NoTrialCompleted(RuntimeError):
    """Every trial of the search failed."""


def build_parser():
    p = ArgumentParser(
        prog="tune.py", description="Search a zoo model's hyperparameters with keras-tuner."
    )
    p.add_argument("model", help="registered model name (see `zoo list`)")
    p.add_argument("--dataset", default="fashion_mnist", help="dataset name (see zoo.datasets)")
    p.add_argument("--algorithm", choices=["random", "hyperband", "bayesian"], default="random")
    p.add_argument("--max-trials", type=int, default=10, help="number of trials")
    p.add_argument("--epochs", type=int, default=5,
                   help="epochs per trial (hyperband: the longest trial, max_epochs)")
    p.add_argument("--directory", default="runs/tune", help="where searches live")
    p.add_argument("--project-name", default=None,
                   help="search name inside --directory (default MODEL-DATASET-ALGORITHM)")
    p.add_argument("--objective", default=None,
                   help="metric to optimise, e.g. val_accuracy (default: the family's); "
                        "NAME:min or NAME:max for a metric keras-tuner cannot infer")
    p.add_argument("--fixed", action="append", default=[], metavar="KEY=VALUE",
                   help="fix a hyperparameter or constructor argument (repeatable), "
                        "e.g. dropout=0.1 or hidden_units=(128,64)")
    p.add_argument("--override", action="append", default=[], metavar="KEY=RANGE",
                   help="new range or choices of a hyperparameter (repeatable), "
                        "e.g. learning_rate=(1e-4,1e-2) or units=[64,128]")
    p.add_argument("--extend", action="append", default=[], metavar="KEY=RANGE",
                   help="also search a constructor argument (repeatable), "
                        "e.g. activation=['relu','gelu']")
    p.add_argument("--evaluation", action="append", default=[], metavar="KEY=VALUE",
                   help="argument of model.evaluation_metrics for objectives measured after "
                        "fit (repeatable), e.g. feature_model=runs/fid-mlp or num_samples=2000")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--validation-split", type=float, default=0.1,
                   help="fraction of the training data the search is scored on")
    p.add_argument("--train-examples", type=int, default=None,
                   help="search on this many training examples (seeded subset; quick checks)")
    p.add_argument("--seed", type=int, default=1,
                   help="oracle and weight seed (keras-tuner treats 0 as unseeded)")
    add_backend_arg(p)
    p.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    p.add_argument("--baseline", action="store_true",
                   help="also train the default configuration as long and print both test scores")
    p.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard logs")
    p.add_argument("--show-space", action="store_true", help="print the search space and exit")
    p.add_argument("--verbose", type=int, default=1,
                   help="keras-tuner and fit verbosity (1: progress bars, 2: a line per epoch)")
    return p


def parse_objective(text):
    if text is None or ":" not in text:
        return text
    import keras_tuner

    name, direction = text.rsplit(":", 1)
    if direction not in ("min", "max"):
        raise UserValueError(f"`--objective` NAME:DIRECTION takes min or max. Received: {text!r}")
    return keras_tuner.Objective(name, direction)


def check_args(args):
    """What needs nothing loaded: fails before any file is written."""
    for flag, value in (("--epochs", args.epochs), ("--max-trials", args.max_trials),
                        ("--batch-size", args.batch_size)):
        if value <= 0:
            raise UserValueError(f"`{flag}` must be > 0. Received: {value}")
    if not 0 < args.validation_split < 1:
        raise UserValueError("`--validation-split` must be in (0, 1). "
                             f"Received: {args.validation_split!r}")
    if args.train_examples is not None and args.train_examples < 2:
        raise UserValueError(f"`--train-examples` must be >= 2. Received: {args.train_examples}")
    directory = Path(args.directory)
    if directory.exists() and not directory.is_dir():
        raise UserValueError(f"`--directory` must be a directory; {directory} is a file. "
                             f"Received: --directory {args.directory}")


def split_data(args, epoch=None):
    """(train, validation, test) tf.data pipelines: the validation split is held
    out of the (optionally subsampled) training data, with a fixed seed. With
    `epoch` (a variable kept by `DataEpoch`), the order of each epoch depends only
    on (seed, epoch), so every trial sees the same batches."""
    import zoo

    check_args(args)
    train, val, test, sizes = zoo.datasets.load_split(
        args.dataset, batch_size=args.batch_size, validation_split=args.validation_split,
        seed=args.seed, validation_seed=args.seed, train_examples=args.train_examples,
        epoch=epoch)
    return (train, val, test, (sizes["train"], sizes["validation"], sizes["test"]),
            sizes["fingerprint"])


def search_settings(args, backend, fingerprint=None):
    """What defines the trials' results besides the space: recorded with the search."""
    settings = {"dataset": args.dataset, "epochs": args.epochs, "batch_size": args.batch_size,
                "validation_split": args.validation_split,
                "train_examples": args.train_examples, "backend": backend}
    if fingerprint is not None:  # the training data's content (a changed file is refused)
        settings["data_fingerprint"] = fingerprint
    return settings


def _hp_values(trial):
    return {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def results_table(tuner, epochs=""):
    """The trials as a text table: trial, status, epochs, each hyperparameter, score."""
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
    names = []
    for t in trials:
        names += [k for k in _hp_values(t) if k not in names]
    objective = tuner.oracle.objective.name
    header = ["trial", "status", "epochs", *names, objective]
    rows = []
    for t in trials:
        values = t.hyperparameters.values
        trial_epochs = values.get("tuner/epochs", epochs)
        if values.get("tuner/initial_epoch"):
            trial_epochs = f"{values['tuner/initial_epoch']}->{trial_epochs}"
        rows.append([t.trial_id, t.status, str(trial_epochs),
                     *[_format(values[n]) if n in values else "-" for n in names],
                     _format(t.score) if t.score is not None else "-"])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def run(args, argv):
    """Runs the search as `args` say; returns a summary dict (None on a worker)."""
    import keras

    import zoo

    check_args(args)
    zoo.registry.get(args.model)  # unknown names fail before anything loads
    info = zoo.datasets.info(args.dataset)
    fixed = parse_model_args(args.fixed)
    fixed = {**dataset_model_kwargs(args.model, info, fixed), **fixed}
    hypermodel = zoo.hypermodel(args.model, fixed=fixed,
                                overrides=parse_model_args(args.override),
                                extend=parse_model_args(args.extend),
                                evaluation={"dataset": args.dataset,
                                            **parse_model_args(args.evaluation)})
    if args.show_space:
        print(hypermodel.describe())
        return None
    keras.utils.set_random_seed(args.seed)
    project = args.project_name or f"{args.model}-{args.dataset}-{args.algorithm}"
    extra = {"max_epochs": args.epochs} if args.algorithm == "hyperband" else {}
    role = compat.chief_role()
    is_worker = role == "worker"
    # one search process per directory (workers of a distributed search share the chief's),
    # holding the lock before anything there is deleted (--overwrite) and to the end
    project_dir = Path(args.directory) / project
    owned = OwnedDirectory(project_dir, (), what="search", flag="--directory")
    if not is_worker:  # files of someone else's, another search: refused before any work
        owned.check()
        owned.lock.check()
    objective = parse_objective(args.objective)
    hypermodel.check_objective(hypermodel.space.objective if objective is None else objective)
    if not args.overwrite:  # a changed rerun is refused before any data loads
        check_resume(hypermodel, args.algorithm, objective, args.directory, project, args.seed,
                     search_settings(args, keras.backend.backend()),
                     ignore=("settings.data_fingerprint",), **extra)
    epoch = zoo.datasets.epoch_variable()
    data = split_data(args, epoch)
    created = owned.acquire() if not is_worker else False
    try:
        tuner = zoo.tuner(hypermodel, args.algorithm, objective=objective,
                          max_trials=args.max_trials, directory=args.directory,
                          project_name=project, overwrite=args.overwrite, seed=args.seed,
                          search_settings=search_settings(args, keras.backend.backend(),
                                                          data[4]), **extra)
    except BaseException:  # refused: the folder is left as it was found
        if not is_worker:
            owned.give_up(created)
        raise
    try:
        if role is None:  # alone in the directory: what a killed search left is stale
            remove_temporaries(project_dir, recursive=True)
        return _search(args, argv, hypermodel, tuner, project_dir, role, epoch, data[:4])
    finally:
        owned.lock.release()


def _search(args, argv, hypermodel, tuner, project_dir, role, epoch, data):
    import keras

    import callbacks as zoo_callbacks

    is_worker = role == "worker"
    train, val, test, sizes = data
    callbacks = [zoo_callbacks.DataEpoch(epoch)]
    if not args.no_tensorboard:
        # keras-tuner gives each trial its own log dir and adds its HParams
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(project_dir / "logs")))
    print(hypermodel.describe())
    print(f"data: {sizes[0]} training, {sizes[1]} validation, {sizes[2]} test examples "
          f"of {args.dataset}; backend {keras.backend.backend()}", flush=True)
    start = time.time()
    search_kwargs = dict(validation_data=val, epochs=args.epochs, callbacks=callbacks,
                         verbose=args.verbose)
    if role == "chief":
        search_as_chief(tuner, train, **search_kwargs)
    else:
        tuner.search(train, **search_kwargs)
    wall = time.time() - start
    if is_worker:
        print(f"[{tuner.tuner_id}] no trials left; worker done ({wall:.0f} s)")
        return None

    print()
    print(results_table(tuner, args.epochs))
    best_trials = [t for t in tuner.oracle.get_best_trials(1) if t.status == "COMPLETED"]
    if not best_trials:
        raise NoTrialCompleted(f"no trial of {project_dir} completed; see the errors above.")
    best = best_trials[0]
    summary = {
        "command": "python scripts/tune.py " + shlex.join(argv),
        "model": args.model,
        "dataset": args.dataset,
        "algorithm": args.algorithm,
        "objective": tuner.oracle.objective.name,
        "best_trial": best.trial_id,
        "score": best.score,
        "hyperparameters": _hp_values(best),
        "model_arguments": _jsonable(hypermodel.arguments(best.hyperparameters.values)),
        "epochs": best.hyperparameters.values.get("tuner/epochs", args.epochs),
        "trials": len(tuner.oracle.trials),
        "search_seconds": wall,
        "data": dict(zip(("train", "validation", "test"), sizes)),
        "backend": keras.backend.backend(),
        "project_dir": str(project_dir),
    }
    try:
        model = tuner.load_model(best)
    except (FileNotFoundError, OSError, ValueError) as err:
        # distributed across machines without a shared --directory
        print(f"The best trial's checkpoint could not be read ({err}); retrain it with the "
              f"hyperparameters in {project_dir / 'best_hyperparameters.json'}.")
        model = None
        (project_dir / "best_model.keras").unlink(missing_ok=True)  # not a stale one
    if model is not None:
        model.adapt(train)  # vocabularies are not in weight checkpoints
        summary["test"] = evaluate(model, test, dataset=args.dataset)
        with atomic_path(project_dir / "best_model.keras") as tmp:
            model.save(tmp)
        summary["best_model"] = str(project_dir / "best_model.keras")
    if args.baseline:
        summary["baseline"] = train_default(hypermodel, args, train, val, test)
    write_json_atomic(project_dir / "best_hyperparameters.json", summary)
    return summary


def search_as_chief(tuner, *args, poll_seconds=0.5, **kwargs):
    """keras-tuner's chief (`tuner.search` serving the oracle), returning as soon as every
    trial is done and every worker has been told to stop.

    keras-tuner's own server loop re-checks that only every 20 s; the chief serves
    from a daemon thread here and applies keras-tuner's exit test (`exit_chief`) twice
    a second once `max_trials` trials exist.
    """
    import threading

    oracle = tuner.oracle
    failure = []

    def serve():
        try:
            tuner.search(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001  (re-raised in the main thread)
            failure.append(err)

    server = threading.Thread(target=serve, name="keras-tuner-chief", daemon=True)
    server.start()
    while server.is_alive():
        server.join(poll_seconds)
        trials = list(oracle.trials.values())
        if (oracle.max_trials and len(trials) >= oracle.max_trials
                and all(t.status != "RUNNING" for t in trials)
                and compat.chief_can_exit(oracle)):
            break
    if failure:
        raise failure[0]


def train_default(hypermodel, args, train, val, test):
    """The family's default configuration, trained as long as a full trial."""
    import keras
    import keras_tuner

    keras.utils.set_random_seed(args.seed)
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    model.adapt(train)
    start = time.time()
    model.fit(train, validation_data=val, epochs=args.epochs, verbose=args.verbose, shuffle=False)
    return {"hyperparameters": dict(hp.values), "epochs": args.epochs,
            "train_seconds": time.time() - start,
            "test": evaluate(model, test, dataset=args.dataset)}


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=str))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        summary = run(args, argv)
    except USER_ERRORS as err:
        return report(err)
    except NoTrialCompleted as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C). Finished trials are kept: run the same command "
              "again to resume the search (an interrupted trial runs again, to the same score).",
              file=sys.stderr)
        return 130
    if summary is None:
        return 0
    print()
    print(f"best trial {summary['best_trial']}: {summary['objective']} = {summary['score']:.4f}")
    for key, value in summary["hyperparameters"].items():
        print(f"  {key} = {_format(value)}")
    for key, value in summary.get("test", {}).items():
        print(f"best model: test {key} = {_format(value)}")
    for key, value in summary.get("baseline", {}).get("test", {}).items():
        print(f"default configuration: test {key} = {_format(value)}")
    if "best_model" in summary:
        print(f"best model written to {summary['best_model']}")
    print(f"best hyperparameters written to {summary['project_dir']}/best_hyperparameters.json")
    return 0
