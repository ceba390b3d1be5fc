"""Checkpoint: atomic files, validity checks, exact resume (in process and after SIGKILL)."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import keras
import tensorflow as tf

import callbacks
import zoo
from callbacks_testlib import all_weights, optimizer_state, read_events, tiny_data, tiny_model

HERE = os.path.dirname(os.path.abspath(__file__))


class Crash(keras.callbacks.Callback):
    """Raises when `epoch` begins: the in-process stand-in for a killed job."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"crash at epoch {epoch}")


def _run(run_dir, epochs=4, resume=True, extra=(), seed=0):
    """A fresh 'process': same seed, new model, new data pipeline, standard callbacks."""
    keras.utils.set_random_seed(seed)
    x, y = tiny_data(n=48)
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    train = zoo.datasets.pipeline(x, y, 8, seed=seed, epoch=epoch)
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    cbs = callbacks.standard_callbacks(
        run_dir,
        schedule=callbacks.OneCycle(0.5),
        monitor="loss",
        keep=2,
        resume=resume,
        data_epoch=epoch,
    )
    model.fit(train, epochs=epochs, verbose=0, shuffle=False, callbacks=cbs + list(extra))
    return model, cbs


@pytest.mark.jax
def test_resume_after_crash_matches_uninterrupted_run(tmp_path):
    full, _ = _run(tmp_path / "full")
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "crashed", extra=[Crash(2)])
    resumed, cbs = _run(tmp_path / "crashed")
    ckpt = next(c for c in cbs if isinstance(c, callbacks.Checkpoint))
    assert ckpt.restored_epoch == 2 and len(ckpt.history) == 4
    for a, b in zip(all_weights(resumed), all_weights(full)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    for a, b in zip(optimizer_state(resumed), optimizer_state(full)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    # TensorBoard steps continue from the restored iterations (6 steps an epoch)
    steps = [s for s, _ in read_events(tmp_path / "crashed" / "tensorboard" / "train")["batch_lr"]]
    assert sorted(set(steps)) == list(range(1, 25))


def test_states_are_atomic_validated_and_pruned(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    _run(run_dir, epochs=4)
    ck = callbacks.checkpoint_dir(run_dir)
    assert sorted(os.listdir(ck)) == [
        "best.json",
        "best.keras",
        "state-00003.json",
        "state-00003.weights.h5",
        "state-00004.json",
        "state-00004.weights.h5",
    ]
    best = json.load(open(os.path.join(ck, "best.json")))
    assert best["monitor"] == "loss" and keras.saving.load_model(os.path.join(ck, "best.keras"))
    checker = callbacks.Checkpoint(ck)
    assert [e for e, _ in checker.valid_states()] == [4, 3]

    # a damaged newest state is skipped: resume falls back to the one before
    with open(os.path.join(ck, "state-00004.weights.h5"), "r+b") as f:
        f.truncate(1000)
    # leftovers of killed writers: a temporary file, weights whose JSON never came
    open(os.path.join(ck, ".tmp-999-abcd1234-state-00005.weights.h5"), "wb").write(b"partial")
    open(os.path.join(ck, "state-00006.weights.h5"), "wb").write(b"no json")
    with pytest.warns(UserWarning, match="state-00004.json"):
        assert [e for e, _ in checker.valid_states()] == [3]
    with pytest.warns(UserWarning, match="state-00004.json"):
        model, cbs = _run(run_dir, epochs=4)
    ckpt = next(c for c in cbs if isinstance(c, callbacks.Checkpoint))
    assert ckpt.restored_epoch == 3
    assert not glob.glob(os.path.join(ck, ".tmp-*"))
    assert [e for e, _ in checker.valid_states()] == [4, 3]  # epoch 4 written again, whole

    # a write that dies half-way leaves no state taken as valid
    def dying_save(self, filepath, *a, **k):
        open(filepath, "wb").write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(type(model), "save_weights", dying_save)
    with pytest.raises(OSError, match="disk full"):
        _run(run_dir, epochs=6)
    assert [e for e, _ in checker.valid_states()] == [4, 3]
    assert not os.path.exists(os.path.join(ck, "state-00005.json"))


def test_fresh_start_removes_old_states_and_wrong_order_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    _run(run_dir, epochs=3)
    ck = callbacks.checkpoint_dir(run_dir)
    _run(run_dir, epochs=1, resume=False)
    assert [e for e, _ in callbacks.Checkpoint(ck).valid_states()] == [1]
    # Checkpoint before Scheduler: the saved optimizer has no learning-rate variable
    _run(run_dir, epochs=2)
    keras.utils.set_random_seed(0)
    x, y = tiny_data(n=48)
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    wrong = [
        callbacks.Checkpoint(ck, monitor="loss", resume=True),
        callbacks.Scheduler(callbacks.OneCycle(0.5)),
    ]
    with pytest.raises(RuntimeError, match="place `Scheduler` before"):
        model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=wrong)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="keep=0"):
        callbacks.Checkpoint(tmp_path, keep=0)
    with pytest.raises(ValueError, match="mode='up'"):
        callbacks.Checkpoint(tmp_path, mode="up")
    with pytest.raises(ValueError, match="monitor.*'val_f'"):
        callbacks.Checkpoint(tmp_path, monitor="val_f")


KILL_ARGS = [
    "mlp",
    "--dataset",
    "fashion_mnist",
    "--limit",
    "256",
    "--batch-size",
    "32",
    "--epochs",
    "5",
    "--optimizer",
    "sgd",
    "--schedule",
    "onecycle",
    "--max-lr",
    "0.2",
    "--model-arg",
    "hidden_units=(32,)",
    "--seed",
    "3",
    "--verbose",
    "0",
    "--resume",
]


@pytest.mark.slow
def test_sigkill_during_epoch_3_then_same_command_resumes_exactly(tmp_path):
    from zoo.jobs import train

    killed_dir, markers = tmp_path / "killed", tmp_path / "markers"
    markers.mkdir()
    command = [
        sys.executable,
        os.path.join(HERE, "callbacks_kill_script.py"),
        str(markers),
        *KILL_ARGS,
        "--run-dir",
        str(killed_dir),
    ]
    job = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # the uninterrupted reference, same seed and arguments, while the job starts
        full_dir = tmp_path / "full"
        argv = KILL_ARGS + ["--run-dir", str(full_dir)]
        reference, _, _ = train.run(train.build_parser().parse_args(argv), argv)
        deadline = time.time() + 120
        while not (markers / "held").exists():  # it holds after 2 steps of epoch 3
            assert job.poll() is None, job.stderr.read().decode()[-3000:]
            assert time.time() < deadline, "the job never reached epoch 3"
            time.sleep(0.05)
        os.kill(job.pid, signal.SIGKILL)
        job.wait(timeout=30)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode == -signal.SIGKILL
    ck = callbacks.checkpoint_dir(killed_dir)
    # only the whole states after epochs 1 and 2 count; nothing of epoch 3 is taken as valid
    assert [e for e, _ in callbacks.Checkpoint(ck).valid_states()] == [2, 1]

    again = subprocess.run(command, capture_output=True, timeout=300)  # the same command
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    resumed = np.load(killed_dir / "final.npz")
    expected = reference.get_weights()
    assert len(resumed.files) == len(expected) > 0
    for i, want in enumerate(expected):
        np.testing.assert_allclose(resumed[f"arr_{i}"], want, atol=1e-6, rtol=0)
    metrics = json.load(open(killed_dir / "metrics.json"))
    assert metrics["resumed_after_epoch"] == 2
    history = json.load(open(killed_dir / "history.json"))
    assert len(history["loss"]) == 5
    np.testing.assert_allclose(
        history["loss"], json.load(open(full_dir / "history.json"))["loss"], rtol=1e-5
    )


@pytest.mark.jax
def test_data_epoch_gives_each_epoch_the_order_of_seed_and_epoch():
    n, bs = 16, 4
    x = np.arange(n, dtype="float32").reshape(n, 1)
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    data = zoo.datasets.pipeline(x, np.zeros(n, "int32"), bs, seed=7, kind="features", epoch=epoch)
    model = keras.Sequential(
        [keras.layers.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    first = []  # lr 0, w 1, y 0: the first step's loss is mean(x^2) of the epoch's first batch
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: first.append(float(logs["loss"])) if b == 0 else None
    )
    model.fit(
        data,
        epochs=5,
        initial_epoch=2,
        shuffle=False,
        verbose=0,
        callbacks=[callbacks.DataEpoch(epoch), record],
    )
    expected = []
    for e in range(2, 5):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=[7, e])
        expected.append(float(np.mean(x[order.numpy()[:bs]] ** 2)))
    np.testing.assert_allclose(first, expected, rtol=1e-6)
    assert len(set(first)) == 3
