"""The zoo's only contact with private parts of keras and keras-tuner.

Everything else uses their public API. Each function here says why no public
way exists, and `tests/house/test_house_compat.py` fails as soon as the keras
or keras-tuner release installed no longer behaves as the function assumes,
so an upgrade breaks here, named, instead of somewhere deep in a training run.

Tested with keras 3.15 and keras-tuner 1.4 (the range pinned in pyproject.toml).
"""


# ---------------------------------------------------------------- training step
def loss_tracker(model):
    """The `Mean` metric that keras logs as `loss`.

    Why: keras's own `train_step` updates this tracker with each step's loss
    and `compute_metrics` reports it; a custom step that wants the same `loss`
    log (reset each epoch, averaged as keras averages it) must update the same
    object. Keras exposes it only as `Trainer._loss_tracker`.
    """
    return model._loss_tracker


# ---------------------------------------------------------------- resuming fit
def set_initial_epoch(model, epoch):
    """Makes the running `fit` continue at `epoch` (None: as `fit` was asked).

    Why: a callback restores a run's state in `on_train_begin`, after `fit`
    has read its `initial_epoch` argument; keras's own
    `keras.callbacks.BackupAndRestore` continues the loop by setting
    `model._initial_epoch`, which every backend's `fit` reads after
    `on_train_begin`. There is no public equivalent.
    """
    model._initial_epoch = epoch


# ---------------------------------------------------------------- optimizers
def learning_rate_object(optimizer):
    """What the optimizer computes its rate from: a `LearningRateSchedule`, a variable, a float.

    Why: `optimizer.learning_rate` evaluates a schedule at the current
    iteration; reading back the schedule object itself (to evaluate it at the
    step just taken, or to restore it later) needs `_learning_rate`.
    """
    return optimizer._learning_rate


def set_learning_rate_object(optimizer, value):
    """Swaps the optimizer's rate source (schedule or variable) without untracking anything.

    Why: the public `learning_rate` setter untracks the optimizer's
    learning-rate variable when a schedule replaces it, which changes the
    list of optimizer variables (what checkpoints hold) and cannot be undone
    by the same setter. The LR range test installs a sweep for a few steps and
    must give the optimizer back exactly as it was.
    """
    optimizer._learning_rate = value


# ---------------------------------------------------------------- layers
def allow_raw_call_arguments(layer):
    """Lets `layer(...)` receive Python strings / string arrays untouched.

    Why: keras converts the positional arguments of `Layer.__call__` to backend
    tensors and refuses non-tensor ones; JAX and torch have no string tensors,
    so a text model that vectorizes raw strings inside `call` must switch both
    off (`_convert_input_args`, `_allow_non_tensor_positional_args`).
    """
    layer._convert_input_args = False
    layer._allow_non_tensor_positional_args = True


def nested_layers(layer):
    """Every layer inside `layer`, itself included (keras's own traversal).

    Why: `TextVectorization` holds its `StringLookup` privately and marks both
    `supports_jit=False`; the zoo vectorizes strings in the input pipeline, never
    in the compiled step, and must clear that flag on the inner layer too,
    which only `Layer._flatten_layers` reaches.
    """
    return list(layer._flatten_layers(include_self=True, recursive=True))


# ---------------------------------------------------------------- building
def build_shapes_only(build):
    """`build()` with every variable it creates given a shape but never a value.

    Why: `keras.StatelessScope(initialize_variables=False)` defers the values
    (public), but keras keeps the deferred variables in a global list that the
    next stateless scope to close initialises (allocating, say, VGG-19's 143 M
    parameters, possibly inside a traced step). Counting parameters must not
    leave them there; the list is `global_state`'s "uninitialized_variables".
    """
    import keras
    from keras.src.backend.common import global_state

    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            return build()
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)


# ---------------------------------------------------------------- saving
def object_at_weights_path(model, group):
    """The layer stored under `group` of a `.weights.h5` file (e.g. "layers/dense_4"), or None.

    Why: keras names the groups of its weights files after attribute names and
    snake-cased class names made unique by its saving library
    (`saving_lib._get_unique_name`); naming the layer behind a mismatched
    group, for a readable error, needs the same rule.
    """
    from keras.src.saving.keras_saveable import KerasSaveable
    from keras.src.saving.saving_lib import _get_unique_name
    from keras.src.utils.naming import to_snake_case

    obj = model
    for part in group.split("/"):
        if isinstance(obj, (list, tuple, dict)):
            items = list(obj.values()) if isinstance(obj, dict) else list(obj)
            used, found = {}, None
            for item in items:
                if isinstance(item, KerasSaveable):
                    kind = to_snake_case(type(item).__name__)
                elif isinstance(item, (list, tuple, dict)):
                    kind = "container"
                else:
                    continue
                if _get_unique_name(kind, used) == part:
                    found = item
                    break
            obj = found
        else:
            obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


# ---------------------------------------------------------------- keras-tuner
class TrialCallbacksHook:
    """Mixin for a keras-tuner `Tuner`: calls `self.configure_trial_callbacks(callbacks,
    trial, execution)` on each execution's own copy of the callbacks, before its fit.

    Why: keras-tuner deep-copies the search's callbacks for every execution of
    a trial and, in between, calls its private `_configure_tensorboard_dir`
    (on the TensorFlow backend only) to point TensorBoard at the trial's
    folder. That is the only hook between the copy and `fit`; the zoo needs it
    on every backend, for its own step-scalar callback and HParams too.
    """

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        self.configure_trial_callbacks(callbacks, trial, execution)

    def trial_log_dir(self, log_dir, trial_id, execution=0):
        """keras-tuner's folder for one execution's TensorBoard logs under `log_dir`."""
        return self._get_tensorboard_dir(log_dir, trial_id, execution)

    def configure_trial_callbacks(self, callbacks, trial, execution):  # pragma: no cover
        raise NotImplementedError


def chief_role():
    """"chief", "worker" or None: this process's part in a distributed keras-tuner search.

    Why: keras-tuner decides from `KERASTUNER_*` variables in
    `keras_tuner.src.distribute.utils`; the zoo asks the same functions so that
    both always agree, rather than re-reading the variables its own way.
    """
    from keras_tuner.src.distribute import utils

    if not utils.has_chief_oracle():
        return None
    return "chief" if utils.is_chief_oracle() else "worker"


def chief_can_exit(oracle):
    """True once a chief has no running trial and no connected worker.

    Why: keras-tuner's chief only checks this (`oracle_chief.exit_chief`)
    every 20 s in its server loop; the zoo's chief polls the same test twice
    a second so a finished search returns at once.
    """
    from keras_tuner.src.distribute import oracle_chief

    return oracle_chief.exit_chief(oracle)


def write_keras_tuner_state_atomically():
    """Makes keras-tuner write its `oracle.json` and `trial.json` files atomically.

    Why: keras-tuner writes its search state with `keras_tuner.src.utils.save_json`,
    which truncates the file and writes in place: a search killed at that moment
    leaves a half file, and the next run cannot reload the search. There is no
    public way to choose how it writes; every call goes through that one module
    function (`Stateful.save`, `Tuner.save_model`'s records), which this replaces
    with an atomic write (temporary file, fsync, rename). Remote paths (gs://...)
    keep keras-tuner's own writer. Idempotent.
    """
    import json

    from keras_tuner.src import utils

    from zoo.utils.files import write_bytes_atomic

    original = utils.save_json
    if getattr(original, "zoo_atomic", False):
        return

    def save_json(path, obj):
        if "://" in str(path):
            return original(path, obj)
        text = json.dumps(obj)
        write_bytes_atomic(path, text.encode("utf-8"))
        return text

    save_json.zoo_atomic = True
    utils.save_json = save_json


def requeue_interrupted_trials(oracle):
    """Queues for a rerun each trial a reloaded oracle holds as RUNNING but would never run;
    returns their ids.

    Why: keras-tuner starts a trial by writing its `trial.json` (RUNNING) and then
    `oracle.json`. A search killed between the two writes reloads a trial the oracle's
    state does not list as ongoing: `Oracle.reload` queues only the listed ones for a
    retry (in the private `_retry_queue`), so this one is never run, never completed,
    and still counts toward `max_trials`. A worker's oracle client has no queue: its
    chief's oracle decides.
    """
    queue = getattr(oracle, "_retry_queue", None)
    if queue is None:
        return []
    ongoing = {trial.trial_id for trial in oracle.ongoing_trials.values()}
    orphans = [trial_id for trial_id, trial in sorted(oracle.trials.items())
               if trial.status == "RUNNING" and trial_id not in queue and trial_id not in ongoing]
    queue.extend(orphans)
    return orphans


__all__ = [
    "TrialCallbacksHook",
    "allow_raw_call_arguments",
    "build_shapes_only",
    "chief_can_exit",
    "chief_role",
    "learning_rate_object",
    "loss_tracker",
    "nested_layers",
    "object_at_weights_path",
    "requeue_interrupted_trials",
    "set_initial_epoch",
    "set_learning_rate_object",
    "write_keras_tuner_state_atomically",
]
