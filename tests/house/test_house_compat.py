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


def test_stored_kernel_is_the_dense_kernel_without_its_lora_update():
    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    layer.enable_lora(1)
    layer.lora_kernel_b.assign(np.ones((1, 3)))
    stored = keras.ops.convert_to_numpy(compat.stored_kernel(layer))
    assert any(w is compat.stored_kernel(layer) for w in layer.weights)
    assert not np.allclose(keras.ops.convert_to_numpy(layer.kernel), stored)


def test_add_weights_after_build_adds_tracked_weights_then_locks():
    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    extra = compat.add_weights_after_build(
        layer, lambda: layer.add_weight(shape=(2,), name="extra"))
    assert any(w is extra for w in layer.weights)
    with pytest.raises(ValueError):
        layer.add_weight(shape=(2,), name="late")


def test_nested_layers_reach_the_vectorizers_lookup():
    vectorizer = keras.layers.TextVectorization(max_tokens=10)
    kinds = {type(layer).__name__ for layer in compat.nested_layers(vectorizer)}
    assert {"TextVectorization", "StringLookup"} <= kinds


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


@pytest.mark.jax
@pytest.mark.torch
def test_initialize_deferred_gives_values_and_the_rest_their_initializers():
    def build():
        dense = keras.layers.Dense(3, bias_initializer="ones")
        dense.build((None, 2))
        return dense

    dense = compat.build_shapes_only(build)
    kernel = np.arange(6, dtype="float64").reshape(2, 3)
    compat.initialize_deferred(dense, [(dense.kernel, kernel)])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(dense.kernel), kernel)
    assert keras.backend.standardize_dtype(dense.kernel.dtype) == "float32"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(dense.bias), np.ones(3))
    # initialised for good: usable and assignable as any variable
    dense.bias.assign(np.zeros(3))
    out = dense(np.ones((1, 2), "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), [[3.0, 5.0, 7.0]])


@pytest.mark.jax
@pytest.mark.torch
def test_initialize_deferred_refuses_a_wrong_shape_before_changing_anything():
    def build():
        dense = keras.layers.Dense(3)
        dense.build((None, 2))
        return dense

    dense = compat.build_shapes_only(build)
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(3, 3\)"):
        compat.initialize_deferred(dense, [(dense.bias, np.zeros(3)),
                                           (dense.kernel, np.zeros((3, 3)))])
    compat.initialize_deferred(dense)  # nothing half done: each takes its initializer
    assert keras.ops.convert_to_numpy(dense.kernel).shape == (2, 3)
    with pytest.raises(ValueError, match="already holds a value"):
        compat.initialize_deferred(dense, [(dense.bias, np.zeros(3))])


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


# ---------------------------------------------------------------- added with the family folders
class RecordsEvaluate(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.calls = []

    def call(self, x):
        return self.dense(x)

    def evaluate(self, *args, **kwargs):
        self.calls.append(compat.evaluating_for_fit(kwargs))
        return super().evaluate(*args, **kwargs)


def test_evaluating_for_fit_tells_fits_validation_from_a_users_evaluate():
    model = RecordsEvaluate()
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert model.calls == [True, False]


def test_supports_jit_is_kerass_answer():
    class NoJit(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_jit = False

        def call(self, x):
            return x

    inputs = keras.Input((2,))
    assert compat.supports_jit(keras.Model(inputs, keras.layers.Dense(1)(inputs)))
    assert not compat.supports_jit(keras.Model(inputs, NoJit()(inputs)))


def test_compile_arguments_is_what_a_keras_file_replays(tmp_path):
    model = _tiny_classifier()
    arguments = compat.compile_arguments(model)
    assert "optimizer" in arguments
    arguments["momentum_schedule"] = None  # a change to it is saved
    assert "momentum_schedule" in model.get_compile_config()
    assert compat.compile_arguments(zoo.create("mlp", input_shape=(4,), num_classes=3)) is None


def test_callback_model_attribute_holds_the_model():
    callback = keras.callbacks.Callback()
    model = _tiny_classifier()
    callback.set_model(model)
    assert callback.__dict__[compat.callback_model_attribute()] is model
    assert callback.model is model


def test_oracle_of_unwraps_keras_tuners_oracle_client():
    import inspect

    from keras_tuner.src.distribute import oracle_client

    # a worker's client keeps the oracle it stands for where oracle_of looks
    assert "self._oracle = oracle" in inspect.getsource(oracle_client.OracleClient.__init__)
    oracle = keras_tuner.oracles.RandomSearchOracle(max_trials=1)
    assert compat.oracle_of(oracle) is oracle


def test_a_functional_family_leaves_the_shared_base_subclassed():
    from zoo.training.base import BaseZooModel

    functional = zoo.create("resnet20", width_multiplier=0.25, depths=(1, 1, 1))
    inputs = keras.Input((2,))
    assert isinstance(functional, compat.functional_model_class())
    assert compat.functional_model_class() is type(keras.Model(inputs, inputs))
    assert BaseZooModel.__bases__ == (keras.Model,)  # keras rewrote nothing
    subclassed = zoo.create("mlp", input_shape=(4,), num_classes=3, hidden_units=(8,))
    assert not isinstance(subclassed, compat.functional_model_class())
    assert subclassed.count_params() == 4 * 8 + 8 + 8 * 3 + 3


def test_a_keras_file_of_the_subclassed_layout_is_read_by_layer_name(tmp_path):
    import zipfile
    from pathlib import Path

    import h5py

    old = Path(__file__).resolve().parents[1] / "legacy" / "files" / "resnet20.keras"
    model = keras.saving.load_model(old)  # through compat.adopt_legacy_layout
    with zipfile.ZipFile(old) as archive, archive.open("model.weights.h5") as member:
        with h5py.File(member, "r") as saved:
            assert compat.is_legacy_layout(model, saved["/"])
    own = compat.in_own_layout(model, old, tmp_path)
    assert own != old
    with h5py.File(own, "r") as converted:
        assert not compat.is_legacy_layout(model, converted["/"])
    again = zoo.create("resnet20", **{k: v for k, v in model.get_config().items()
                                      if k not in ("name", "trainable")})
    again.load_weights(own)
    for a, b in zip(again.weights, model.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_grouped_convolutions_trace_to_a_plain_conv2d_for_the_exporters():
    import tensorflow as tf

    layer = keras.layers.Conv2D(4, 3, groups=2)
    layer.build((None, 6, 6, 4))
    x = np.random.default_rng(0).random((2, 6, 6, 4)).astype("float32")

    def ops_of_a_trace():
        fn = tf.function(lambda t: layer(t), input_signature=[tf.TensorSpec((None, 6, 6, 4))])
        return {op.type for op in fn.get_concrete_function().graph.get_operations()}

    # keras wraps a grouped convolution in an XLA function: the call that tf2onnx leaves
    # unconverted (when keras stops, the patch can go)
    assert "StatefulPartitionedCall" in ops_of_a_trace()
    with compat.graph_grouped_convolutions():
        traced = ops_of_a_trace()
        assert "Conv2D" in traced and "StatefulPartitionedCall" not in traced
    assert "StatefulPartitionedCall" in ops_of_a_trace()  # restored
    expected = keras.ops.convert_to_numpy(layer(x))  # keras's own (XLA) kernel, eager
    tf_groups = tf.nn.convolution(x, layer.kernel, padding="VALID") + layer.bias
    np.testing.assert_allclose(tf_groups.numpy(), expected, atol=1e-5)
