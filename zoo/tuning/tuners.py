"""`zoo.tuner(...)`: a keras-tuner tuner over a zoo model's search space."""

import json
import os
import zlib

import keras
import keras_tuner

from callbacks.tensorboard import StepScalars
from zoo import compat
from zoo.errors import UserTypeError, UserValueError
from zoo.tuning.zoo_hypermodel import ZooHyperModel
from zoo.utils.files import jsonable, write_json_atomic
from zoo.utils.ownership import OwnedDirectory
from zoo.utils.records import differences

ALGORITHMS = {
    "random": keras_tuner.RandomSearch,
    "hyperband": keras_tuner.Hyperband,
    "bayesian": keras_tuner.BayesianOptimization,
}
_FINGERPRINT = "zoo_search.json"
#: what a search writes in its project folder (keras-tuner's records and trials, the zoo's
#: records, `scripts/tune.py`'s best model and logs): recorded in the folder's manifest
SEARCH_ENTRIES = ("oracle.json", "tuner*.json", "trial_*/", _FINGERPRINT,
                  "best_hyperparameters.json", "best_model.keras", "logs/")
#: tuner arguments that do not change any trial's result (max_trials may grow: more trials)
_NOT_RESULTS = ("max_trials", "tuner_id", "logger", "overwrite", "max_retries_per_trial",
                "max_consecutive_failed_trials", "distribution_strategy")


class _ZooTunerMixin(compat.TrialCallbacksHook):
    """What the zoo adds to keras-tuner's tuners: per-trial TensorBoard folders and
    HParams on every backend (keras-tuner does it on TensorFlow only), a trial line,
    a seed per trial."""

    zoo_seed = 0

    def configure_trial_callbacks(self, callbacks, trial, execution):
        values = trial.hyperparameters.values
        hparams = {hp.name: values[hp.name] for hp in trial.hyperparameters.space
                   if hp.name in values}
        has_hparams = False
        for callback in list(callbacks):
            if isinstance(callback, (keras.callbacks.TensorBoard, StepScalars)):
                logdir = self.trial_log_dir(callback.log_dir, trial.trial_id, execution)
                callback.log_dir = logdir
            if isinstance(callback, StepScalars):
                callback.hparams, callback.trial_id = hparams, trial.trial_id
                has_hparams = True
        if not has_hparams:
            for callback in list(callbacks):
                if isinstance(callback, keras.callbacks.TensorBoard):
                    callbacks.append(StepScalars(callback.log_dir, update_freq="epoch",
                                                 hparams=hparams, trial_id=trial.trial_id))
                    break

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        # every random draw of the trial (weights, dropout, keras's shuffling of arrays)
        # from a seed of its own: a trial run again after an interruption, or by
        # another worker, starts as it did the first time
        keras.utils.set_random_seed(trial_seed(self.zoo_seed, trial.trial_id))
        # names which process runs which trial (distributed searches)
        print(f"[{self.tuner_id}] running trial {trial.trial_id}", flush=True)


def trial_seed(search_seed, trial_id):
    """The seed of one trial: a function of the search's seed and the trial's id only."""
    return zlib.crc32(f"{search_seed}:{trial_id}".encode()) % (2**31 - 1)


_CLASSES = {}


def _tuner_class(algorithm):
    if algorithm not in _CLASSES:
        base = ALGORITHMS[algorithm]
        _CLASSES[algorithm] = type(f"Zoo{base.__name__}", (_ZooTunerMixin, base), {})
    return _CLASSES[algorithm]


def tuner(
    model,
    algorithm="random",
    objective=None,
    max_trials=10,
    directory="runs/tune",
    project_name=None,
    overwrite=False,
    seed=None,
    search_settings=None,
    **tuner_kwargs,
):
    """A keras-tuner tuner searching a zoo model's space.

    The objective is checked against what the model logs, and the space
    against the family, before the tuner (and any trial) starts. Running the
    same call again on the same `directory`/`project_name` resumes the search
    (keras-tuner reloads its oracle; finished trials are not run again).
    Distributed search: set `KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP`,
    `KERASTUNER_ORACLE_PORT` (keras-tuner's chief/worker mode).

    Args:
        model: a registered model name, or a `zoo.hypermodel(...)` (to fix,
            narrow or extend hyperparameters).
        algorithm: "random", "hyperband" or "bayesian".
        objective: metric name or `keras_tuner.Objective` (default: the
            family's, e.g. "val_accuracy" for classifiers, "val_loss" for
            autoencoders).
        max_trials: number of trials. For "hyperband" it caps the trials of
            unlimited Hyperband iterations (None: keras-tuner's
            `hyperband_iterations`); pass `max_epochs` for the longest trial.
        directory, project_name: where the search state lives
            (default project: the model name). A project folder holding files
            no zoo search wrote is refused (its manifest lists what a search writes).
        overwrite: start afresh instead of resuming: deletes what the project's
            manifest lists (keras-tuner's own `overwrite` would delete the whole
            folder). `scripts/tune.py` holds the folder's lock while it does.
        seed: the oracle's random seed; each trial's weights and data order are
            seeded from it and the trial's id, so a trial run again after an
            interruption gives the same score.
        search_settings: dict of what else defines the trials' results (the
            data, epochs, batch size: what `scripts/tune.py` passes); recorded
            with the search, and a resume with other values is refused.
        **tuner_kwargs: passed to the keras-tuner class (`max_epochs`,
            `factor`, `executions_per_trial`, `num_initial_points`, ...).

    Returns:
        A `keras_tuner.RandomSearch`, `Hyperband` or `BayesianOptimization`.

    Example:

    ```python
    tuner = zoo.tuner("mlp", "hyperband", objective="val_accuracy", max_epochs=4)
    tuner.search(train, validation_data=val, epochs=4)
    best = tuner.get_best_models(1)[0]
    ```
    """
    if isinstance(model, str):
        hypermodel = ZooHyperModel(model)
    elif isinstance(model, ZooHyperModel):
        hypermodel = model
    else:
        raise UserTypeError("`model` must be a registered model name or a zoo.hypermodel(...). "
                            f"Received: model={model!r}")
    if algorithm not in ALGORITHMS:
        raise UserValueError(f"`algorithm` must be one of {sorted(ALGORITHMS)}. "
                             f"Received: algorithm={algorithm!r}")
    if max_trials is not None and (isinstance(max_trials, bool) or not isinstance(max_trials, int)
                                   or max_trials <= 0):
        raise UserValueError(
            f"`max_trials` must be an int > 0. "
            f"Received: max_trials={max_trials!r}"
        )
    if max_trials is None and algorithm != "hyperband":
        raise UserValueError(f"`max_trials` is required for algorithm={algorithm!r}. "
                             "Received: max_trials=None")
    objective = hypermodel.space.objective if objective is None else objective
    hypermodel.check_objective(objective)
    project_name = project_name or hypermodel.model_name
    if search_settings is not None and not isinstance(search_settings, dict):
        raise UserTypeError("`search_settings` must be a dict. "
                            f"Received: search_settings={search_settings!r}")
    fingerprint = _fingerprint(hypermodel, algorithm, objective, seed, tuner_kwargs,
                               search_settings)
    project = OwnedDirectory(os.path.join(str(directory), project_name), SEARCH_ENTRIES,
                             what="search", flag="--directory/--project-name")
    writes = compat.chief_role() != "worker"  # workers use their chief's folder, as it is
    if writes:
        project.check()  # files of someone else's there: refused, overwrite included
    path = os.path.join(str(project.path), _FINGERPRINT)
    if not overwrite:
        _check_fingerprint(fingerprint, path, project_name)
    if writes:
        if overwrite:
            project.remove_owned()
        project.path.mkdir(parents=True, exist_ok=True)
        project.record()

    compat.write_keras_tuner_state_atomically()  # a search killed mid-write stays reloadable
    cls = _tuner_class(algorithm)
    if algorithm == "hyperband":
        if max_trials is not None:
            tuner_kwargs.setdefault("hyperband_iterations", None)
        result = cls(hypermodel, objective=objective, seed=seed, directory=directory,
                     project_name=project_name, overwrite=False, **tuner_kwargs)
        # The oracle stops creating trials at max_trials (keras-tuner's Oracle
        # check); workers hold a client whose real oracle is the chief's.
        compat.oracle_of(result.oracle).max_trials = max_trials
    else:
        result = cls(hypermodel, objective=objective, max_trials=max_trials, seed=seed,
                     directory=directory, project_name=project_name, overwrite=False,
                     **tuner_kwargs)
    # a search killed between keras-tuner's trial and oracle records left a trial it would
    # never run
    compat.requeue_interrupted_trials(compat.oracle_of(result.oracle))
    if writes:
        write_json_atomic(path, fingerprint)
    result.zoo_seed = seed if seed is not None else getattr(result.oracle, "seed", 0)
    return result


def _fingerprint(hypermodel, algorithm, objective, seed, tuner_kwargs, search_settings):
    if isinstance(objective, keras_tuner.Objective):
        objective = [objective.name, objective.direction]
    elif isinstance(objective, (list, tuple)):
        objective = [getattr(o, "name", o) for o in objective]
    options = {k: v for k, v in sorted(tuner_kwargs.items()) if k not in _NOT_RESULTS}
    return jsonable({**hypermodel.fingerprint(), "algorithm": algorithm, "objective": objective,
                     "seed": seed, "tuner_options": options,
                     "settings": search_settings or {}})


def check_resume(model, algorithm="random", objective=None, directory="runs/tune",
                 project_name=None, seed=None, search_settings=None, ignore=(),
                 **tuner_kwargs):
    """What `tuner` refuses before it writes (files of someone else's in the project, a
    recorded search with other settings), checked alone and changing nothing; `ignore`:
    settings left out (e.g. `settings.data_fingerprint`, known only once data are read)."""
    hypermodel = ZooHyperModel(model) if isinstance(model, str) else model
    objective = hypermodel.space.objective if objective is None else objective
    project_name = project_name or hypermodel.model_name
    project = OwnedDirectory(os.path.join(str(directory), project_name), SEARCH_ENTRIES,
                             what="search", flag="--directory/--project-name")
    if compat.chief_role() != "worker":  # a worker uses its chief's folder, as it is
        project.check()
    fingerprint = _fingerprint(hypermodel, algorithm, objective, seed, tuner_kwargs,
                               search_settings)
    _check_fingerprint(fingerprint, os.path.join(str(project.path), _FINGERPRINT),
                       project_name, ignore)


def _check_fingerprint(fingerprint, path, project_name, ignore=()):
    """Refuses to resume a directory that holds a different search."""
    if not os.path.exists(path):
        return
    try:
        with open(path) as f:
            stored = json.load(f)
    except (OSError, ValueError) as err:
        raise UserValueError(f"{path} cannot be read ({err}); pass overwrite=True or another "
                             f"project_name. Received: project_name={project_name!r}") from None
    changed = [c for c in differences(stored, fingerprint) if c[0] not in ignore]
    if changed:
        listed = "; ".join(f"{key}: {old!r} recorded, {new!r} now" for key, old, new in changed)
        raise UserValueError(
            f"{os.path.dirname(path)} holds a different search ({listed}); its trials and "
            "new ones would be ranked together. Resume it with the recorded settings, or "
            f"pass overwrite=True or another project_name. Received: project_name="
            f"{project_name!r}"
        )
