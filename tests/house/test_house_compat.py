"""zoo/compat.py: each use of a keras or keras-tuner internal still does what the zoo needs.

A keras upgrade that renames or changes one of them fails here, by name.
"""

import keras
import keras_tuner
import numpy as np
import pytest

import zoo
from zoo import compat


def _tiny_classifier():
    model = zoo.create("mlp", input_shape=(4,), num_classes=3, hidden_units=(8,))
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9))
    return model


def _data(n=16):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n)


@pytest.mark.jax
@pytest.mark.torch
def test_loss_tracker_is_the_tracker_keras_logs_as_loss():
    model = _tiny_classifier()
    tracker = compat.loss_tracker(model)
    assert isinstance(tracker, keras.metrics.Mean) and tracker.name == "loss"
    assert tracker in model.metrics
    x, y = _data()
    logs = model.evaluate(x, y, return_dict=True, verbose=0)
    assert logs["loss"] == pytest.approx(float(tracker.result()))


@pytest.mark.jax
@pytest.mark.torch
def test_set_initial_epoch_continues_a_running_fit():
    class Restore(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            compat.set_initial_epoch(self.model, 2)

        def on_train_end(self, logs=None):
            compat.set_initial_epoch(self.model, None)

    model = _tiny_classifier()
    x, y = _data()
    epochs = []
    seen = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))
    model.fit(x, y, epochs=4, verbose=0, callbacks=[Restore(), seen])
    assert epochs == [2, 3]
    epochs.clear()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[seen])
    assert epochs == [0]


@pytest.mark.jax
@pytest.mark.torch
def test_learning_rate_object_swaps_without_changing_the_optimizer_state():
    model = _tiny_classifier()
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    source = compat.learning_rate_object(optimizer)
    assert isinstance(source, keras.Variable) and float(source.numpy()) == pytest.approx(0.1)
    before = [v.path for v in optimizer.variables]
    schedule = keras.optimizers.schedules.ExponentialDecay(0.5, 1, 0.5)
    compat.set_learning_rate_object(optimizer, schedule)
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.5)
    compat.set_learning_rate_object(optimizer, source)
    assert compat.learning_rate_object(optimizer) is source
    assert [v.path for v in optimizer.variables] == before


@pytest.mark.jax
@pytest.mark.torch
def test_allow_raw_call_arguments_passes_strings_to_call():
    class Lengths(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            compat.allow_raw_call_arguments(self)

        def call(self, texts):
            return keras.ops.convert_to_tensor([len(t) for t in texts])

    out = Lengths()(["ab", "cde"])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), [2, 3])


def test_nested_layers_reach_the_vectorizers_lookup():
    vectorizer = keras.layers.TextVectorization(max_tokens=10)
    kinds = {type(layer).__name__ for layer in compat.nested_layers(vectorizer)}
    assert {"TextVectorization", "StringLookup"} <= kinds


def test_object_at_weights_path_names_the_layers_of_a_weights_file(tmp_path):
    import h5py

    model = zoo.create("resnet20", width_multiplier=0.25, input_shape=(8, 8, 1))
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    groups = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: groups.append(name.rsplit("/vars/", 1)[0])
                     if "/vars/" in name else None)
    assert groups
    for group in sorted(set(groups)):
        layer = compat.object_at_weights_path(model, group)
        assert isinstance(layer, keras.layers.Layer), group
        with h5py.File(path, "r") as f:
            shapes = [f[f"{group}/vars/{k}"].shape for k in sorted(f[f"{group}/vars"], key=int)]
        assert shapes == [tuple(w.shape) for w in layer.weights][: len(shapes)], group
    assert compat.object_at_weights_path(model, "layers/no_such_layer") is None


def test_trial_callbacks_hook_sees_each_executions_callbacks(tmp_path):
    seen = []

    class Tuner(compat.TrialCallbacksHook, keras_tuner.RandomSearch):
        def configure_trial_callbacks(self, callbacks, trial, execution):
            seen.append((trial.trial_id, execution, [type(c).__name__ for c in callbacks]))
            assert self.trial_log_dir("logs", trial.trial_id, execution).startswith("logs")

    def build(hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        model.compile(optimizer="sgd", loss="mse")
        return model

    x, _ = _data()
    tuner = Tuner(build, objective="val_loss", max_trials=1, executions_per_trial=2,
                  directory=tmp_path, project_name="p")
    tuner.search(x, np.zeros((16, 3)), validation_data=(x, np.zeros((16, 3))), epochs=1,
                 verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert [(e, names) for _, e, names in seen] == [(0, ["TerminateOnNaN"]),
                                                    (1, ["TerminateOnNaN"])]


def test_chief_role_follows_keras_tuners_variables(monkeypatch):
    for name in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert compat.chief_role() is None
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert compat.chief_role() == "chief"
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    assert compat.chief_role() == "worker"


def test_chief_can_exit_once_no_trial_runs_and_no_worker_is_left(tmp_path):
    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
    oracle._set_project_dir(str(tmp_path), "p")  # noqa: SLF001 (keras-tuner's own setup call)
    assert compat.chief_can_exit(oracle)
    oracle.create_trial("tuner0")
    assert not compat.chief_can_exit(oracle)


def test_build_shapes_only_leaves_nothing_to_initialise(monkeypatch):
    calls = []
    original = keras.initializers.VarianceScaling.__call__

    def counting(self, *args, **kwargs):
        calls.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.initializers.VarianceScaling, "__call__", counting)

    def build():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(3)])

    model = compat.build_shapes_only(build)
    assert sum(int(np.prod(v.shape)) for v in model.weights) == 4 * 8 + 8 + 8 * 3 + 3
    with keras.StatelessScope():
        pass  # keras initialises every pending variable when a stateless scope closes
    assert calls == []
    build()
    assert calls  # the check above can see an initialisation


def test_keras_tuner_state_is_written_through_the_atomic_helper(tmp_path):
    import os

    from zoo.utils import files

    compat.write_keras_tuner_state_atomically()
    compat.write_keras_tuner_state_atomically()  # idempotent
    written = []

    def record(path, stage):
        written.append((os.path.basename(path), stage))

    files.WRITE_HOOKS.append(record)
    try:
        oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
        oracle._set_project_dir(str(tmp_path), "p")  # noqa: SLF001 (keras-tuner's own setup)
        trial = oracle.create_trial("tuner0")  # saves the trial and the oracle
        oracle.save()
    finally:
        files.WRITE_HOOKS.remove(record)
    assert ("trial.json", "replaced") in written and ("oracle.json", "replaced") in written
    assert keras_tuner.engine.trial.Trial.load(
        str(tmp_path / "p" / f"trial_{trial.trial_id}" / "trial.json")).trial_id == trial.trial_id
    assert not [p for p in tmp_path.rglob(files.TEMPORARY_PREFIX + "*")]


def test_a_trial_recorded_before_its_oracle_is_run_again_after_a_reload(tmp_path):
    """A kill between keras-tuner's trial.json and oracle.json writes: without the requeue
    the reloaded oracle would never run that trial (the search stops with it RUNNING)."""
    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
    oracle._set_project_dir(str(tmp_path), "p")  # noqa: SLF001 (keras-tuner's own setup)
    oracle.save()  # the oracle's record before the trial
    state = (tmp_path / "p" / "oracle.json").read_text()
    trial = oracle.create_trial("tuner0")
    (tmp_path / "p" / "oracle.json").write_text(state)  # killed before this write landed

    reloaded = keras_tuner.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
    reloaded._set_project_dir(str(tmp_path), "p")  # noqa: SLF001
    reloaded.reload()
    assert reloaded.trials[trial.trial_id].status == "RUNNING"
    assert reloaded.create_trial("tuner1").status == "STOPPED"  # what keras-tuner would do

    again = keras_tuner.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
    again._set_project_dir(str(tmp_path), "p")  # noqa: SLF001
    again.reload()
    assert compat.requeue_interrupted_trials(again) == [trial.trial_id]
    rerun = again.create_trial("tuner0")
    assert rerun.trial_id == trial.trial_id and rerun.status == "RUNNING"
    assert compat.requeue_interrupted_trials(again) == []  # now ongoing: not queued twice
