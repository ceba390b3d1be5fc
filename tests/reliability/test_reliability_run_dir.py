"""train.py's run directory: never silently destroyed, one run at a time, no drift on resume."""

import json
import os
import subprocess
import sys

import pytest
from reliability_testlib import call, copy_run, one_error_line, snapshot, train_argv

from zoo.jobs import run_dir as rd
from zoo.jobs import train


@pytest.fixture
def run(finished, tmp_path):
    return copy_run(finished, tmp_path / "run")


def _config(run):
    return json.loads((run / "config.json").read_text())


def test_the_finished_run_records_its_definition(finished):
    config = _config(finished)
    assert config["definition_sha256"] == rd.definition_sha256(config)
    definition = config["definition"]
    assert definition["epochs"] == 2 and definition["batch_size"] == 32
    assert definition["model_config"]["hidden_units"] == [8]
    assert definition["data"]["train"] + definition["data"]["validation"] == 128
    assert "resumed" not in config


def test_a_rerun_without_resume_or_overwrite_is_refused_and_changes_nothing(run, capsys):
    before = snapshot(run)
    code, _, err = call(train.main, train_argv(run), capsys)
    line = one_error_line(err)
    assert code == 2 and "--resume" in line and "--overwrite" in line, err
    assert "checkpoint states up to epoch 2" in line
    assert snapshot(run) == before


@pytest.mark.parametrize("change, named", [
    (["--lr", "0.5"], ["optimizer.config.learning_rate", "0.5 now"]),
    (["--batch-size", "16"], ["batch_size (--batch-size): 32 recorded, 16 now"]),
    (["--seed", "3", "--epochs", "1"], ["seed (--seed): 0 recorded, 3 now",
                                        "epochs (--epochs): 2 recorded, 1 now"]),
    (["--model-arg", "activation='sigmoid'"], ["model_config.activation", "'sigmoid' now"]),
    (["--optimizer", "sgd"], ["optimizer (--optimizer/--lr/--momentum): 'Adam' recorded, "
                              "'SGD' now"]),
    (["--schedule", "step"], ["schedule"]),
])
def test_resume_with_another_setting_is_refused_naming_each(run, capsys, change, named):
    before = snapshot(run)
    argv = train_argv(run, "--resume")
    for i in range(0, len(change), 2):  # replace a value already in the command
        if change[i] in argv:
            argv[argv.index(change[i]) + 1] = change[i + 1]
        else:
            argv += change[i:i + 2]
    code, _, err = call(train.main, argv, capsys)
    line = one_error_line(err)
    assert code == 2 and "--overwrite" in line, err
    for text in named:
        assert text in line, (text, line)
    assert snapshot(run) == before  # config.json included


def test_a_larger_epochs_is_a_safe_change_recorded_as_such(run, capsys):
    """Also: temporary files a killed writer left are removed, never read."""
    leftovers = [run / ".tmp-999999-abcd1234-model.keras",
                 run / "checkpoints" / ".tmp-999999-abcd1234-state-00003.weights.h5"]
    for path in leftovers:
        path.write_bytes(b"half a file")
    code, out, err = call(train.main, train_argv(run, "--resume", epochs=3), capsys)
    assert code == 0, err
    assert not any(path.exists() for path in leftovers)
    config = _config(run)
    (resumed,) = config["resumed"]
    assert resumed["after_epoch"] == 2 and resumed["changed"] == {"epochs": [2, 3]}
    assert config["definition"]["epochs"] == 3 and config["created"] == _config(run)["created"]
    history = json.loads((run / "history.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(history["loss"]) == 3 and metrics["resumed_after_epoch"] == 2


def _valid_state(folder, epoch):
    """A checkpoint state that passes `Checkpoint`'s checks (its weights are not read)."""
    from zoo.utils.files import sha256_file

    weights = folder / "checkpoints" / f"state-{epoch:05d}.weights.h5"
    weights.write_bytes(b"weights")
    (folder / "checkpoints" / f"state-{epoch:05d}.json").write_text(json.dumps(
        {"weights": weights.name, "size": 7, "sha256": sha256_file(weights)}))


def test_a_larger_epochs_is_refused_when_a_schedule_spans_the_epochs(tmp_path):
    folder = tmp_path / "run"
    (folder / "checkpoints").mkdir(parents=True)
    _valid_state(folder, 2)
    config = {"model": "mlp", "args": {"epochs": 2, "schedule": "onecycle"}, "data": {}}
    (folder / "config.json").write_text(json.dumps(config))
    resumed = rd.RunDirectory(folder, resume=True)
    with pytest.raises(rd.RunDirectoryError, match=r"epochs \(--epochs\): 2 recorded, 4 now"):
        resumed.check_drift({**config, "args": {"epochs": 4, "schedule": "onecycle"}})
    stepped = {**config, "args": {"epochs": 2, "schedule": "step"}}
    (folder / "config.json").write_text(json.dumps(stepped))
    assert resumed.check_drift({**stepped, "args": {"epochs": 4, "schedule": "step"}}) == {
        "epochs": [2, 4]}


def test_overwrite_deletes_the_old_run_and_starts_afresh(run, capsys):
    (run / "samples-epoch001.png").write_bytes(b"old grid")  # a file family it records
    code, _, err = call(train.main, train_argv(run, "--overwrite", epochs=1), capsys)
    assert code == 0, err
    config = _config(run)
    assert "resumed" not in config and config["definition"]["epochs"] == 1
    assert sorted(p.name for p in (run / "checkpoints").glob("state-*.json")) == [
        "state-00001.json"]
    assert not (run / "samples-epoch001.png").exists()


def test_resume_and_overwrite_together_are_refused(tmp_path, capsys):
    code, _, err = call(train.main, train_argv(tmp_path / "r", "--resume", "--overwrite"), capsys)
    assert code == 2 and "one of them" in one_error_line(err)
    assert not (tmp_path / "r").exists()


def test_a_run_directory_that_is_a_file_is_refused_before_anything_loads(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("not a directory")
    code, _, err = call(train.main, train_argv(target), capsys)
    assert code == 2 and "is a file" in one_error_line(err)
    assert target.read_text() == "not a directory"


@pytest.mark.parametrize("where", ["checkpoints is a file", "under /sys"])
def test_an_unwritable_run_directory_fails_before_training(tmp_path, capsys, where):
    """Root ignores permission bits (these tests run as root): a file in the way of
    `checkpoints/` (not the zoo's: refused as such), and sysfs, which refuses new
    entries to everyone."""
    if where == "under /sys":
        run = "/sys/zoo-reliability-test/run"
    else:
        run = tmp_path / "run"
        run.mkdir()
        (run / "checkpoints").write_text("in the way")
    code, _, err = call(train.main, train_argv(run), capsys)
    line = one_error_line(err)
    assert code == 2 and ("cannot write" in line or "cannot be created" in line
                          or "did not write: checkpoints." in line), err
    if where != "under /sys":
        assert sorted(p.name for p in run.iterdir()) == ["checkpoints"]


def test_a_second_run_in_the_same_directory_refuses_while_the_first_holds_it(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         f"fd = os.open({str(run / rd.LOCK_NAME)!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "os.write(fd, b'pid %d on this host' % os.getpid())\n"
         "print('locked', flush=True)\n"
         "time.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = call(train.main, train_argv(run), capsys)
        assert code == 2 and f"in use by another run (pid {holder.pid}" in one_error_line(err)
        assert sorted(p.name for p in run.iterdir()) == [rd.LOCK_NAME]
    finally:
        holder.kill()
        holder.wait()
    # the holder died: its lock file is stale and simply taken over
    with rd.RunDirectory(run) as again:
        again.open({"args": {}})
        assert (run / rd.LOCK_NAME).read_text().startswith(f"pid {os.getpid()} ")


def test_two_run_directories_on_one_path_in_one_process_exclude_each_other(tmp_path):
    first = rd.RunDirectory(tmp_path / "run")
    first.open({"args": {}})
    try:
        second = rd.RunDirectory(tmp_path / "run", overwrite=True)
        with pytest.raises(rd.RunDirectoryError, match="in use by another run"):
            second.check()
    finally:
        first.close()
    rd.RunDirectory(tmp_path / "run", overwrite=True).check()  # released
