"""Fault injection: a run or a search killed at a write, a full disk, concurrent first loads.

Fast cases run in `make test`, in process: a hook on the atomic write helper
(`zoo.utils.files.WRITE_HOOKS`) aborts the N-th write as a kill would (the
write in flight never lands; the process's lock is released). The `faults` set
(`make test-faults`) kills real processes with SIGKILL at every write point of
a run and of a search and fills a real 1 MB tmpfs.
"""

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from reliability_testlib import call, one_error_line, train_argv

from zoo.jobs import train, tune
from zoo.utils import files

ROOT = Path(__file__).resolve().parents[2]
KILL_SCRIPT = Path(__file__).with_name("reliability_kill_script.py")


class SimulatedKill(BaseException):
    """What a SIGKILL does to the write in flight, raised where nothing catches it."""


@contextlib.contextmanager
def fault_at(select, fault):
    """Raises `fault(path)` at the first write point `select(path, stage, count)` accepts."""
    seen = []

    def hook(path, stage):
        seen.append((os.path.basename(path), stage))
        if select(os.path.basename(path), stage, len(seen)):
            files.WRITE_HOOKS.remove(hook)
            raise fault(path)

    files.WRITE_HOOKS.append(hook)
    try:
        yield seen
    finally:
        if hook in files.WRITE_HOOKS:
            files.WRITE_HOOKS.remove(hook)


def at_file(name, stage="written"):
    return lambda base, s, _: base == name and s == stage


def _history(run):
    return json.loads((Path(run) / "history.json").read_text())


def assert_no_half_written_file(folder, temporaries=False):
    """Every file the zoo names is whole: JSON parses, .keras zips and .h5 files open;
    temporary files (what a killed writer leaves) only where `temporaries`."""
    for path in Path(folder).rglob("*"):
        if not path.is_file() or "tensorboard" in path.parts:
            continue
        if path.name.startswith(files.TEMPORARY_PREFIX):
            assert temporaries, path
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                assert archive.testzip() is None, path
        elif path.suffix == ".h5":
            with h5py.File(path, "r"):
                pass


def assert_same_history(run, reference):
    got, expected = _history(run), _history(reference)
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)


# ---------------------------------------------------------------------- runs (fast)
@pytest.mark.parametrize("name, stage", [
    ("state-00002.weights.h5", "written"),  # in the middle: resumes after epoch 1
    ("model.keras", "written"),  # the last write: every state is there
])
def test_a_run_killed_at_a_write_resumes_to_the_uninterrupted_result(finished, tmp_path, capsys,
                                                                     name, stage):
    run = tmp_path / "run"
    with pytest.raises(SimulatedKill), fault_at(at_file(name, stage), SimulatedKill):
        train.main(train_argv(run))
    assert_no_half_written_file(run)
    code, _, err = call(train.main, train_argv(run, "--resume"), capsys)
    assert code == 0, err
    assert_no_half_written_file(run)
    assert_same_history(run, finished)


def test_a_full_disk_stops_the_run_with_one_line_and_leaves_it_resumable(tmp_path, capsys):
    run = tmp_path / "run"

    def no_space(path):
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    with fault_at(at_file("state-00002.weights.h5"), no_space):
        code, _, err = call(train.main, train_argv(run), capsys)
    assert code == 1 and "No space left on device" in one_error_line(err)
    assert_no_half_written_file(run)
    assert sorted(p.name for p in (run / "checkpoints").glob("state-*")) == [
        "state-00001.json", "state-00001.weights.h5"]  # resumable: the kill tests resume


def test_every_file_of_a_run_goes_through_the_atomic_helper(finished_run):
    """The write points the kill tests choose from: everything a run leaves."""
    run, writes = finished_run
    written = {name for name, stage in writes if stage == "replaced"}
    assert {name for name, stage in writes if stage == "written"} == written
    on_disk = {p.name for p in run.rglob("*") if p.is_file() and p.name != ".zoo-run.lock"}
    assert on_disk == written, on_disk ^ written


# ---------------------------------------------------------------------- searches (fast)
TINY_SEARCH = ["mlp", "--dataset", "fashion_mnist", "--epochs", "1", "--train-examples", "64",
               "--batch-size", "32", "--fixed", "hidden_units=(4,)", "--verbose", "0",
               "--no-tensorboard", "--max-trials", "2", "--algorithm", "random"]


def _trials(project):
    return {json.loads(p.read_text())["trial_id"]: json.loads(p.read_text())
            for p in project.glob("trial_*/trial.json")}


def test_a_second_search_in_the_same_directory_refuses(tmp_path, capsys):
    from zoo.jobs.run_dir import DirectoryLock

    lock = DirectoryLock(tmp_path / "mlp-fashion_mnist-random", what="search")
    lock.path.mkdir()
    lock.acquire()
    try:
        code, _, err = call(tune.main, [*TINY_SEARCH, "--directory", str(tmp_path)], capsys)
    finally:
        lock.release()
    assert code == 2 and "in use by another search" in one_error_line(err)


# ---------------------------------------------------------------------- weights (fast)
def test_concurrent_first_loads_of_one_entry_agree(tmp_path, monkeypatch):
    import hashlib
    import threading

    from zoo import weights as zw

    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    shipped = zw.get_weights("mlp.fashion_mnist")
    results, errors = [], []

    def load():
        try:
            results.append(zw.fetch(shipped, progress=False))
        except Exception as err:  # noqa: BLE001 (reported below)
            errors.append(err)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(results)) == 1
    (path,) = set(results)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == shipped.sha256
    assert sorted(p.name for p in path.parent.iterdir()) == [shipped.filename]


# ---------------------------------------------------------------------- real kills (faults)
def _kill_points(argv, tmp_path):
    """(name, stage) of every write of the command, in order, from an in-process run."""
    with fault_at(lambda *_: False, SimulatedKill) as seen:
        main = tune.main if argv[0] == "tune" else train.main
        assert main(argv[1:]) == 0
    return list(seen)


def _killed(argv, n, stage):
    out = subprocess.run([sys.executable, str(KILL_SCRIPT), str(n), stage, *argv],
                         capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.returncode == -signal.SIGKILL, out.stderr[-2000:]


@pytest.mark.faults
def test_sigkill_at_every_write_of_a_run_then_resume(finished, tmp_path, capsys):
    points = _kill_points(["train", *train_argv(tmp_path / "probe")], tmp_path)
    assert len(points) >= 20
    for stage in ("written", "replaced"):
        count = sum(1 for _, s in points if s == stage)
        for n in range(1, count + 1):
            run = tmp_path / f"run-{stage}-{n}"
            _killed(["train", *train_argv(run)], n, stage)
            assert_no_half_written_file(run, temporaries=True)
            code, _, err = call(train.main, train_argv(run, "--resume"), capsys)
            assert code == 0, (stage, n, err)
            assert_no_half_written_file(run)
            assert_same_history(run, finished)


@pytest.mark.faults
def test_sigkill_at_every_write_of_a_search_then_resume(tmp_path, capsys):
    reference = tmp_path / "reference"
    points = _kill_points(["tune", *TINY_SEARCH, "--directory", str(reference)], tmp_path)
    scores = {k: t["score"] for k, t in _trials(reference / "mlp-fashion_mnist-random").items()}
    for stage in ("written", "replaced"):
        count = sum(1 for _, s in points if s == stage)
        for n in range(1, count + 1):
            directory = tmp_path / f"search-{stage}-{n}"
            _killed(["tune", *TINY_SEARCH, "--directory", str(directory)], n, stage)
            assert_no_half_written_file(directory, temporaries=True)
            code, _, err = call(tune.main, [*TINY_SEARCH, "--directory", str(directory)], capsys)
            assert code == 0, (stage, n, err)
            project = directory / "mlp-fashion_mnist-random"
            assert_no_half_written_file(project)
            trials = _trials(project)
            assert {k: t["score"] for k, t in trials.items()} == pytest.approx(scores, rel=1e-5)


@pytest.mark.faults
def test_a_real_full_disk(tmp_path, capsys):
    """A 1 MB tmpfs (needs the right to mount: root here): the run stops with one line."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        code, _, err = call(train.main, [*train_argv(mount / "run"), "--model-arg",
                                         "hidden_units=(512,)"], capsys)
        assert code == 1 and "No space left on device" in one_error_line(err)
        assert_no_half_written_file(mount / "run")
    finally:
        subprocess.run(["umount", str(mount)], check=True)
