"""`zoo.tuner(...)`: a keras-tuner tuner over a zoo model's search space."""

import json
import os

import keras
import keras_tuner

from callbacks.tensorboard import StepScalars
from zoo import compat
from zoo.tuning.zoo_hypermodel import ZooHyperModel
from zoo.utils.files import write_json_atomic

ALGORITHMS = {
    "random": keras_tuner.RandomSearch,
    "hyperband": keras_tuner.Hyperband,
    "bayesian": keras_tuner.BayesianOptimization,
}
_FINGERPRINT = "zoo_search.json"


class _ZooTunerMixin(compat.TrialCallbacksHook):
    """What the zoo adds to keras-tuner's tuners: per-trial TensorBoard folders and
    HParams on every backend (keras-tuner does it on TensorFlow only), a trial line."""

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
        # names which process runs which trial (distributed searches)
        print(f"[{self.tuner_id}] running trial {trial.trial_id}", flush=True)


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
            (default project: the model name).
        overwrite: start afresh instead of resuming.
        seed: the oracle's random seed.
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
        raise TypeError("`model` must be a registered model name or a zoo.hypermodel(...). "
                        f"Received: model={model!r}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"`algorithm` must be one of {sorted(ALGORITHMS)}. "
                         f"Received: algorithm={algorithm!r}")
    if max_trials is not None and (isinstance(max_trials, bool) or not isinstance(max_trials, int)
                                   or max_trials <= 0):
        raise ValueError(f"`max_trials` must be an int > 0. Received: max_trials={max_trials!r}")
    if max_trials is None and algorithm != "hyperband":
        raise ValueError(f"`max_trials` is required for algorithm={algorithm!r}. "
                         "Received: max_trials=None")
    objective = hypermodel.space.objective if objective is None else objective
    hypermodel.check_objective(objective)
    project_name = project_name or hypermodel.model_name
    fingerprint = _fingerprint(hypermodel, algorithm, objective)
    path = os.path.join(str(directory), project_name, _FINGERPRINT)
    if not overwrite:
        _check_fingerprint(fingerprint, path, project_name)

    cls = _tuner_class(algorithm)
    if algorithm == "hyperband":
        if max_trials is not None:
            tuner_kwargs.setdefault("hyperband_iterations", None)
        result = cls(hypermodel, objective=objective, seed=seed, directory=directory,
                     project_name=project_name, overwrite=overwrite, **tuner_kwargs)
        # The oracle stops creating trials at max_trials (keras-tuner's Oracle
        # check); workers hold a client whose real oracle is the chief's.
        getattr(result.oracle, "_oracle", result.oracle).max_trials = max_trials
    else:
        result = cls(hypermodel, objective=objective, max_trials=max_trials, seed=seed,
                     directory=directory, project_name=project_name, overwrite=overwrite,
                     **tuner_kwargs)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json_atomic(path, fingerprint)  # after the tuner: overwrite=True empties the project
    return result


def _fingerprint(hypermodel, algorithm, objective):
    if isinstance(objective, keras_tuner.Objective):
        objective = [objective.name, objective.direction]
    elif isinstance(objective, (list, tuple)):
        objective = [getattr(o, "name", o) for o in objective]
    return {**hypermodel.fingerprint(), "algorithm": algorithm, "objective": objective}


def _check_fingerprint(fingerprint, path, project_name):
    """Refuses to resume a directory that holds a different search."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        stored = json.load(f)
    if stored != fingerprint:
        changed = sorted(k for k in set(stored) | set(fingerprint)
                         if stored.get(k) != fingerprint.get(k))
        raise ValueError(
            f"{os.path.dirname(path)} holds a different search (differs in {changed}); "
            "resume it with the same settings, or pass overwrite=True or another "
            f"project_name. Received: project_name={project_name!r}"
        )
