"""The zoo's only contact with private parts of keras and keras-tuner.

Everything else uses their public API. Each function here says why no public
way exists, and `tests/house/test_house_compat.py` fails as soon as the keras
or keras-tuner release installed no longer behaves as the function assumes,
so an upgrade breaks here, named, instead of somewhere deep in a training run.

Tested with keras 3.15 and keras-tuner 1.4 (the range pinned in pyproject.toml).

One concept in one file (over 500 lines): every contact with keras internals,
kept together so that the house test can hold the rest of the zoo to the public API.
"""

import contextlib

from zoo.errors import UserValueError

# ---------------------------------------------------------------- training step


def loss_tracker(model):
    """The `Mean` metric that keras logs as `loss`.

    Why: keras's own `train_step` updates this tracker with each step's loss
    and `compute_metrics` reports it; a custom step that wants the same `loss`
    log (reset each epoch, averaged as keras averages it) must update the same
    object. Keras exposes it only as `Trainer._loss_tracker`.
    """
    return model._loss_tracker


def evaluating_for_fit(kwargs):
    """True when `evaluate(**kwargs)` is `fit` evaluating its validation data.

    Why: keras's `fit` evaluates the validation data it has already prepared by
    calling `self.evaluate(..., _use_cached_eval_dataset=True)`; an `evaluate`
    override that checks or maps its inputs must leave that call alone. The
    private keyword is the only sign of it.
    """
    return bool(kwargs.get("_use_cached_eval_dataset"))


def supports_jit(model):
    """keras's own answer to whether `fit` may compile `model`'s step (XLA / jax.jit).

    Why: keras turns `jit_compile` off for a model holding a layer that does not
    support it (`trainers.trainer.model_supports_jit`, not exported); the text
    models check that their string vectorizer does not turn it off.
    """
    from keras.src.trainers.trainer import model_supports_jit

    return model_supports_jit(model)


def compile_arguments(model):
    """The dict of `compile()` arguments keras saves in a `.keras` file and replays on
    loading, itself (a change to it is saved), or None before `compile`.

    Why: keras keeps them in `model._compile_config` (a `SerializableDict`);
    `get_compile_config()` returns a serialized copy. A momentum schedule installed
    after `compile` (the `Scheduler` callback) is recorded there so that a reloaded
    model gets it back.
    """
    config = getattr(getattr(model, "_compile_config", None), "config", None)
    return config if isinstance(config, dict) else None


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


#: where `keras.callbacks.Callback` keeps its model (`set_model`; the `model` property)
CALLBACK_MODEL_ATTRIBUTE = "_model"


def callback_model_attribute():
    """The instance attribute in which a keras `Callback` holds its model.

    Why: a callback deep-copied for each keras-tuner trial must not copy the model
    it was set on (the copy gets its own with `set_model`); a copy made from the
    callback's `__dict__` has to know which entry that is. keras stores it as
    `Callback._model`, behind the read-only `model` property.
    """
    return CALLBACK_MODEL_ATTRIBUTE


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


def stored_kernel(layer):
    """A keras `Dense`'s kernel variable as stored: without the LoRA update.

    Why: with LoRA enabled, `Dense.kernel` returns the kernel plus the update;
    a subclass that computes its own update (Swin's fused query-key-value
    projection, LoRA on some of its thirds) must start from the stored
    variable, which keras holds only as `Dense._kernel`.
    """
    return layer._kernel


def add_weights_after_build(layer, add):
    """Runs `add()` (which calls `layer.add_weight`) on a built layer, then locks the layer.

    Why: keras locks a layer's variable tracker once it is built; its own
    `Dense.enable_lora` adds the LoRA factors between `_tracker.unlock()` and
    `_tracker.lock()`, and a subclass adding its own factors must do the same.
    """
    layer._tracker.unlock()
    try:
        return add()
    finally:
        layer._tracker.lock()


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


class _Value:
    """An initializer returning one fixed array (cast to the variable's dtype)."""

    def __init__(self, value):
        self.value = value

    def __call__(self, shape, dtype=None):
        import keras
        import numpy as np

        value = np.asarray(self.value)
        return value.astype(keras.backend.standardize_dtype(dtype)) if dtype else value


def initialize_deferred(layer, values=()):
    """Gives the variables of `layer` (a model) that `build_shapes_only` left without a value
    their first values: `values` (pairs `(variable, array)`) where given, each one's own
    initializer otherwise. Variables that already hold a value are left as they are.

    Why: for a model whose weights all come from a file, drawing random values
    first is wasted (and on JAX each new variable shape compiles its
    initializer: minutes for a DenseNet). Keras has no public way to give a
    deferred variable its first value (`assign` writes into the backend
    variable, which does not exist yet on TensorFlow); replacing its
    `_initializer` and calling keras's own `_deferred_initialize` works the
    same on every backend.
    """
    import numpy as np

    values = list(values)
    given = {id(variable): value for variable, value in values}
    # checked before anything changes: nothing is left half initialised
    for variable, value in values:
        if tuple(np.shape(value)) != tuple(variable.shape):
            raise UserValueError(
                f"Variable {variable.path} has shape {tuple(variable.shape)}. "
                f"Received: a value of shape {tuple(np.shape(value))}"
            )
        if variable._value is not None:
            raise ValueError(f"Variable {variable.path} already holds a value.")
    targets = {id(v): v for v in layer.variables}
    targets.update({id(variable): variable for variable, _ in values})
    for key, variable in targets.items():
        if variable._value is not None:
            continue
        if key in given:
            variable._initializer = _Value(given[key])
        variable._deferred_initialize()


# ---------------------------------------------------------------- functional subclasses
def functional_model_class():
    """keras's `Functional`: the class of `keras.Model(inputs, outputs)`, to subclass.

    Why: keras makes a `keras.Model` subclass that calls `__init__(inputs=...,
    outputs=...)` functional by rewriting its class hierarchy on the first such
    call (`models.model.inject_functional_model_class` replaces `keras.Model`
    by `Functional` in the bases of every class up the chain). The zoo's
    `BaseZooModel` is shared by functional and subclassed families: rewritten,
    every subclassed family would turn functional and fail to build. A
    functional family names `Functional` among its bases instead (MRO: the zoo
    step first, then `Functional`, then `keras.Model`), so keras finds nothing
    to rewrite. keras exports the class only under `keras.src`.
    """
    from keras.src.models.functional import Functional

    return Functional


# ---------------------------------------------------------------- earlier saved layouts
def _layer_values(group):
    """{layer name: [arrays, in keras's variable order]} of every layer saved under `group`.

    keras writes a layer's variables as datasets "0", "1", ... of a `vars` group
    whose `name` attribute is the layer's name (the optimizer's are skipped).
    """
    import h5py
    import numpy as np

    found = {}

    def visit(path, obj):
        if not isinstance(obj, h5py.Group) or not path.endswith("vars") or not len(obj):
            return
        if path.split("/")[0] == "optimizer":
            return
        name = obj.attrs.get("name")
        name = name.decode() if isinstance(name, bytes) else name
        if name in found:
            raise UserValueError(f"Two saved layers are named {name!r}: the file cannot be read "
                                 "by layer name.")
        found[name] = [np.asarray(obj[str(i)]) for i in range(len(obj))]

    group.visititems(visit)
    return found


def is_legacy_layout(model, group):
    """True when `group` (an h5py group: a saved model) does not hold `model`'s functional
    layout: one `layers/<x>/vars` group per layer of `model.layers`, named after it."""
    saved = group.get("layers")
    names = set()
    for key in (saved.keys() if saved is not None else ()):
        vars_group = saved[key].get("vars")
        if vars_group is not None:
            name = vars_group.attrs.get("name")
            names.add(name.decode() if isinstance(name, bytes) else name)
    return not {layer.name for layer in model.layers} <= names


def write_in_own_layout(model, group, dest, uninitialized=False):
    """Writes the variables that `group` (an h5py group of a saved model, any layout) holds
    for `model`, read by layer name, to the `.weights.h5` file `dest` in `model`'s layout.

    Layers keep their names across layouts (the zoo names every layer), so the
    name finds each layer's variables wherever an earlier layout put them; the
    optimizer's variables keep their path. `uninitialized`: `model`'s variables
    have no values yet (`build_shapes_only`).

    A layer the file has no variables of these shapes for is left out of `dest`, so
    the loader reports it (or skips it, with `skip_mismatch`) as for any file.
    """
    import h5py
    import keras
    import numpy as np

    values = _layer_values(group)
    if uninitialized:
        zeros = [(v, np.zeros(v.shape, keras.backend.standardize_dtype(v.dtype)))
                 for v in model.variables]
        with keras.StatelessScope(state_mapping=zeros, initialize_variables=False):
            model.save_weights(str(dest))
    else:
        model.save_weights(str(dest))
    with h5py.File(dest, "r+") as out:
        targets = []
        out.visititems(lambda path, obj: targets.append((path, obj)) if (
            isinstance(obj, h5py.Group) and path.endswith("vars") and len(obj)) else None)
        for path, obj in targets:
            if path.split("/")[0] == "optimizer":
                if path in group:
                    del out[path]
                    group.file.copy(group[path], out, name=path)
                continue
            name = obj.attrs.get("name")
            name = name.decode() if isinstance(name, bytes) else name
            saved = values.get(name)
            wanted = [tuple(obj[str(i)].shape) for i in range(len(obj))]
            if saved is None or [tuple(a.shape) for a in saved] != wanted:
                # absent here as in the file: the loader reports (or skips) it as it would
                del out[path]
                continue
            for i, array in enumerate(saved):
                obj[str(i)][...] = array


def in_own_layout(model, path, folder, uninitialized=False):
    """`path` (a `.weights.h5` or `.keras` file), or a copy of its weights in `model`'s
    layout written to `folder` when the file holds an earlier layout of a model that reads
    them (`model.reads_legacy_layout`). Public h5py and keras API only; the weights engine
    compares and loads the result as any file."""
    import contextlib
    import zipfile
    from pathlib import Path

    import h5py

    if not getattr(model, "reads_legacy_layout", False):
        return path
    path = Path(path)
    try:
        with contextlib.ExitStack() as stack:
            source = path
            if path.suffix == ".keras":
                archive = stack.enter_context(zipfile.ZipFile(path))
                source = stack.enter_context(archive.open("model.weights.h5"))
            saved = stack.enter_context(h5py.File(source, "r"))
            if not is_legacy_layout(model, saved["/"]):
                return path
            dest = Path(folder) / "own_layout.weights.h5"
            write_in_own_layout(model, saved["/"], dest, uninitialized)
            return dest
    except (OSError, KeyError, zipfile.BadZipFile):
        return path  # not a readable weights file: the loader says so, naming it


def adopt_legacy_layout(model, store):
    """Lets keras's loader read a file of an earlier layout of `model`, by layer name.

    Called by the model's `load_own_variables(store)`, which keras calls on a
    model before its layers. Returns True when the store was rewritten.

    Why: keras reads each object's variables from the path of its attributes
    (`saving_lib._load_state`), and has no public way to remap paths. A file
    written when the vision families were subclassed models (their layers
    nested in blocks, `head/...`) holds the same layers, under the same names,
    at other paths. keras's `H5IOStore` reads from its `h5_file` at
    `_h5_entry_path` (the model's own path; "" for the saved model itself):
    here `h5_file` becomes an in-memory copy in which the model's part is in
    its own layout (`write_in_own_layout`), and keras then loads every layer
    from it as usual. Only a plain (unsharded) `.weights.h5` store is read so.
    """
    import io
    import tempfile
    from pathlib import Path

    import h5py

    h5 = getattr(store, "h5_file", None)
    if type(store).__name__ != "H5IOStore" or not isinstance(h5, h5py.File):
        return False
    if not getattr(model, "reads_legacy_layout", False):
        return False
    base = store._h5_entry_path or ""
    group = h5[base] if base else h5["/"]
    if not is_legacy_layout(model, group):
        return False
    with tempfile.TemporaryDirectory() as tmp:
        own = Path(tmp) / "own.weights.h5"
        write_in_own_layout(model, group, own)
        merged = h5py.File(io.BytesIO(), "w")
        if base:  # the model is a layer of the saved one: only its part changes
            for key in h5.keys():
                h5.copy(h5[key], merged, name=key)
            del merged[base]
            merged.require_group(base)
        with h5py.File(own, "r") as src:
            for key in src.keys():
                src.copy(src[key], merged, name=f"{base}/{key}" if base else key)
    h5.close()
    store.h5_file = merged
    store.get(base)  # the store's current group, in the new file
    return True


# ---------------------------------------------------------------- export
@contextlib.contextmanager
def graph_grouped_convolutions():
    """While active, keras's TensorFlow convolutions are plain `tf.nn.convolution` ops.

    Why: keras runs a grouped convolution (and a channels-first 3-D one) inside a
    `tf.function(jit_compile=True)`, because TensorFlow's CPU kernels lack it
    (`keras.src.backend.tensorflow.nn.conv`, no public switch). Traced for an
    export, that function stays a `StatefulPartitionedCall` which tf2onnx does
    not convert (ONNX Runtime then rejects the graph). An exporter needs the
    graph only, never TensorFlow's CPU kernel: the plain op converts to a
    grouped `Conv` (ONNX) or `CONV_2D` (LiteRT). Only the TensorFlow backend
    is patched; the other backends' convolutions are left as they are.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf
    from keras.src.backend.tensorflow import nn

    original = nn.conv

    def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
        data_format = data_format or keras.config.image_data_format()
        channels = inputs.shape[-1 if data_format == "channels_last" else 1]
        rank = len(inputs.shape) - 2
        xla = channels != kernel.shape[-2] or (data_format == "channels_first" and rank == 3)
        if not xla:  # keras's own op: no XLA call to replace
            return original(inputs, kernel, strides, padding, data_format, dilation_rate)
        layout = ("NWC", "NHWC", "NDHWC") if data_format == "channels_last" else (
            "NCW", "NCHW", "NCDHW")
        return tf.nn.convolution(inputs, kernel, strides, padding.upper(),
                                 data_format=layout[rank - 1], dilations=dilation_rate)

    nn.conv = conv
    try:
        yield
    finally:
        nn.conv = original


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


def oracle_of(oracle):
    """The oracle that decides a search's trials: `oracle` itself, or, for a distributed
    search's worker, the one its client stands for.

    Why: keras-tuner gives a worker's tuner an `OracleClient` that forwards to the
    chief's oracle and keeps the wrapped oracle as `_oracle`; settings such as
    `max_trials` belong to that one.
    """
    return getattr(oracle, "_oracle", oracle)


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
    "CALLBACK_MODEL_ATTRIBUTE",
    "TrialCallbacksHook",
    "add_weights_after_build",
    "adopt_legacy_layout",
    "allow_raw_call_arguments",
    "build_shapes_only",
    "callback_model_attribute",
    "chief_can_exit",
    "chief_role",
    "compile_arguments",
    "evaluating_for_fit",
    "functional_model_class",
    "graph_grouped_convolutions",
    "in_own_layout",
    "initialize_deferred",
    "is_legacy_layout",
    "learning_rate_object",
    "loss_tracker",
    "nested_layers",
    "oracle_of",
    "requeue_interrupted_trials",
    "set_initial_epoch",
    "set_learning_rate_object",
    "stored_kernel",
    "supports_jit",
    "write_in_own_layout",
    "write_keras_tuner_state_atomically",
]
