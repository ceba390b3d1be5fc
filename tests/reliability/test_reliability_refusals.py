"""Refuse before touching: for every job, a refusal found late (after the model is built or
the data read) leaves the disk as it found it; values that cannot train are refused up front.
"""

import json
import shlex
import shutil

import numpy as np
import pytest
from reliability_testlib import TINY_RUN, call, copy_run, one_error_line, snapshot, train_argv

from zoo import bench
from zoo.jobs import evaluate, export, pretrain_text, publish_weights, train, tune


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))


# a refusal each job can only find once its model or data exist
LATE_REFUSALS = {
    "train --monitor": (train.main, lambda d: train_argv(d / "run", "--monitor", "val_acc"),
                        "`--monitor` must name a metric this run logs"),
    "train onecycle too short for the data": (
        train.main, lambda d: train_argv(d / "run", "--schedule", "onecycle", "--pct-start",
                                         "0.05", epochs=1),
        "pct_start"),
    "train --lr inf": (train.main, lambda d: train_argv(d / "run", "--lr", "inf"),
                       "Received: --lr=inf"),
    "train --find-lr": (train.main, lambda d: [*TINY_RUN, "--run-dir", str(d / "run"),
                                               "--find-lr", "--find-lr-min", "1",
                                               "--find-lr-max", "1"], "--find-lr-max"),
    "tune --objective": (tune.main, lambda d: ["mlp", "--directory", str(d / "search"),
                                               "--objective", "val_acc"], "'val_acc'"),
    "export --part": (export.main, lambda d: ["mlp", "--weights", "fashion_mnist", "--format",
                                              "onnx", "--output", str(d / "m.onnx"),
                                              "--part", "decoder"], "the whole model"),
    "pretrain_text --parts": (pretrain_text.main, lambda d: [
        "gru", "--run-dir", str(d / "run"), "--parts", "reviews,nosuch", "--epochs", "1",
        "--limit-tokens", "200"], "parts=('reviews', 'nosuch')"),
    "bench generative train": (bench.main, lambda d: [
        "generative", "train", "dcgan", "--run-dir", str(d / "run"), "--model-arg",
        "latent_dim=-1"], "latent_dim"),
}


@pytest.mark.parametrize("job", sorted(LATE_REFUSALS))
def test_a_late_refusal_changes_nothing(job, tmp_path, capsys):
    main, argv, message = LATE_REFUSALS[job]
    (tmp_path / "keep.txt").write_text("unrelated")
    before = snapshot(tmp_path)
    code, _, err = call(main, argv(tmp_path), capsys)
    assert code == 2 and message in one_error_line(err), err
    after = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("zoo-home/")}
    assert after == before


def test_a_late_refusal_keeps_an_existing_run_as_it_was(finished, tmp_path, capsys):
    run = copy_run(finished, tmp_path / "run")
    before = snapshot(run)
    for extra in (["--monitor", "val_acc"], ["--lr", "nan"]):
        code, _, err = call(train.main, train_argv(run, "--overwrite", *extra), capsys)
        assert code == 2, err
        assert snapshot(run) == before


@pytest.fixture
def package(tmp_path):
    """A package folder holding the shipped mlp entry and its weights file."""
    from zoo import weights as zw

    root = tmp_path / "package"
    (root / "files").mkdir(parents=True)
    spec = zw.get_weights("mlp.fashion_mnist")
    shutil.copy(spec.root + "/mlp.fashion_mnist.json", root)
    shutil.copy(spec.root + "/files/mlp.fashion_mnist.weights.h5", root / "files")
    return root


def test_publish_refuses_before_touching_the_entry_or_its_file(finished, package, capsys):
    """The issue's case: --force with a misspelt dataset replaced the shipped weights file
    before refusing, and every later load failed its hash."""
    before = snapshot(package)
    argv = [str(finished), "--name", "fashion_mnist", "--force", "--package-dir", str(package)]
    code, _, err = call(publish_weights.main, argv + ["--dataset", "fashoin_mnist"], capsys)
    assert code == 2 and "fashoin_mnist" in one_error_line(err)
    assert snapshot(package) == before
    # a weights file no entry records is not replaced, --force included
    (package / "files" / "mlp.other.weights.h5").write_bytes(b"someone's")
    code, _, err = call(publish_weights.main, [str(finished), "--name", "other", "--force",
                                               "--package-dir", str(package)], capsys)
    assert code == 2 and "no entry records its sha256" in one_error_line(err), err


def test_publish_measures_before_it_commits(finished, package, capsys, monkeypatch):
    """A failure while measuring (here: the data) leaves the entry and its file as they were;
    a published entry loads."""
    before = snapshot(package)

    def fail(*args, **kwargs):
        raise OSError("disk read error while measuring")

    monkeypatch.setattr(evaluate, "measure", fail)
    argv = [str(finished), "--name", "fashion_mnist", "--force", "--package-dir", str(package)]
    code, _, err = call(publish_weights.main, argv, capsys)
    assert code == 2 and "while measuring" in err
    assert snapshot(package) == before
    monkeypatch.undo()
    code, _, err = call(publish_weights.main, argv + ["--batch-size", "5000"], capsys)
    assert code == 0, err
    from zoo import weights as zw

    spec = zw.WeightsSpec.read(package / "mlp.fashion_mnist.json")
    assert spec.sha256 == zw.sha256_of(package / "files" / "mlp.fashion_mnist.weights.h5")
    assert sorted(p.name for p in (package / "files").iterdir()) == [
        "mlp.fashion_mnist.weights.h5"]


def test_publish_checks_again_when_it_commits(finished, package, capsys, monkeypatch):
    """Another publisher wrote the entry while this one measured: refused, nothing of
    this one stays (the check before the work is repeated under the lock)."""
    measure = evaluate.measure

    def other_publisher_meanwhile(*args, **kwargs):
        (package / "files" / "mlp.again.weights.h5").write_bytes(b"the other publisher's")
        return measure(*args, **kwargs)

    monkeypatch.setattr(evaluate, "measure", other_publisher_meanwhile)
    code, _, err = call(publish_weights.main, [str(finished), "--name", "again",
                                               "--package-dir", str(package)], capsys)
    assert code == 2 and "no entry records its sha256" in one_error_line(err), err
    assert sorted(p.name for p in (package / "files").iterdir()) == [
        "mlp.again.weights.h5", "mlp.fashion_mnist.weights.h5"]
    assert not (package / "mlp.again.json").exists()
    assert (package / "files" / "mlp.again.weights.h5").read_bytes() == b"the other publisher's"


def test_resume_on_changed_data_is_refused_by_its_fingerprint(finished, tmp_path, capsys,
                                                              monkeypatch):
    import zoo

    run = copy_run(finished, tmp_path / "run")
    before = snapshot(run)
    arrays = zoo.datasets.load_arrays

    def one_pixel_changed(name, **kwargs):
        (x, y), test = arrays(name, **kwargs)
        x = x.copy()
        x[0, 0, 0, 0] ^= 1
        return (x, y), test

    monkeypatch.setattr(zoo.datasets, "load_arrays", one_pixel_changed)
    code, _, err = call(train.main, train_argv(run, "--resume", epochs=3), capsys)
    line = one_error_line(err)
    assert code == 2 and "data.fingerprint (the content of the training data)" in line, line
    assert snapshot(run) == before


def test_a_resume_without_a_usable_state_says_so_and_is_no_resume(finished, tmp_path, capsys):
    run = copy_run(finished, tmp_path / "run")
    for weights in (run / "checkpoints").glob("state-*.weights.h5"):
        weights.write_bytes(b"damaged")
    code, _, err = call(train.main, train_argv(run, "--resume", epochs=1), capsys)
    assert code == 0, err
    assert "holds no usable checkpoint state" in err
    config = json.loads((run / "config.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    assert "resumed" not in config and "resumed_after_epoch" not in metrics


def test_ctrl_c_is_one_line_with_the_command_that_resumes(tmp_path, capsys):
    import keras

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    run = tmp_path / "run"
    code = train.main(train_argv(run, epochs=3), extra_callbacks=[CtrlC()])
    err = capsys.readouterr().err
    line = one_error_line(err)
    assert code == 130 and "continue it with: python scripts/train.py" in line, err
    resume = shlex.split(line.split("python scripts/train.py ", 1)[1])
    assert resume[-1] == "--resume" and str(run) in resume
    code, _, err = call(train.main, resume, capsys)
    assert code == 0, err
    assert json.loads((run / "config.json").read_text())["resumed"][0]["after_epoch"] == 1


def test_an_endless_dataset_without_steps_is_refused():
    import tensorflow as tf

    import zoo

    model = zoo.create("mlp", input_shape=(4,), num_classes=2, hidden_units=(3,))
    model.compile()
    x = np.zeros((8, 4), "float32")
    ds = tf.data.Dataset.from_tensor_slices((x, np.zeros(8, "int32"))).batch(4).repeat()
    with pytest.raises(ValueError, match="never ends.*steps_per_epoch"):
        model.fit(ds, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_steps"):
        model.fit(ds.take(2), validation_data=ds, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Received: steps=None"):
        model.evaluate(ds, verbose=0)
    with pytest.raises(ValueError, match="Received: steps=None"):
        model.predict(ds.map(lambda a, b: a), verbose=0)
    model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0)  # with steps: trains


def test_export_to_a_read_only_folder_is_one_line(capsys):
    """sysfs refuses new files to everyone (root included)."""
    code, _, err = call(export.main, ["mlp", "--weights", "fashion_mnist", "--format", "onnx",
                                      "--output", "/sys/zoo-export-test.onnx"], capsys)
    assert code == 2 and "Cannot write in /sys" in one_error_line(err), err


def test_a_busy_coordinator_port_is_named():
    import socket

    from zoo.training import distribution

    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match=f"port {port} is in use on this host"):
            distribution.check_port_free(f"localhost:{port}")
    distribution.check_port_free(f"localhost:{port}")  # free again


@pytest.mark.jax
@pytest.mark.jax_only  # several processes train on JAX only
def test_process_0_of_a_run_names_a_busy_coordinator_port_and_writes_nothing(tmp_path):
    """scripts/train.py (its own process: a multi-process run ends its process on a failure):
    one line and status 2, before JAX's runtime starts, which would end the run with
    "another process died" and the cause in a gRPC log line."""
    import os
    import socket
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = train_argv(tmp_path / "run", "--distribute", "data_parallel", "--num-processes",
                          "2", "--process-id", "0", "--coordinator", f"localhost:{port}")
        done = subprocess.run([sys.executable, os.path.join(root, "scripts", "train.py"), *argv],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "KERAS_BACKEND": "jax"})
    line = one_error_line(done.stderr)
    assert done.returncode == 2 and f"coordinator port {port} is in use" in line, done.stderr
    assert list(tmp_path.iterdir()) == []
