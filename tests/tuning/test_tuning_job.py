"""scripts/tune.py as a user runs it: the table and files, kill and resume, chief and workers."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# a small search on a Fashion-MNIST subset: a few seconds per process
QUICK = ["--dataset", "fashion_mnist", "--epochs", "1", "--train-examples", "256",
         "--batch-size", "64", "--fixed", "hidden_units=(16,)", "--verbose", "2"]


def _command(directory, *extra):
    return [sys.executable, "scripts/tune.py", "mlp", *QUICK, "--directory", str(directory),
            *extra]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    return dict(env, TF_CPP_MIN_LOG_LEVEL="3", **extra)


def _trials(project):
    out = {}
    for path in project.glob("trial_*/trial.json"):
        try:
            trial = json.loads(path.read_text())
        except ValueError:  # being written
            continue
        out[trial["trial_id"]] = trial
    return out


def _ran(output):
    """(tuner id, trial id) of each trial a process started."""
    return re.findall(r"^\[(\w+)\] running trial (\w+)$", output, flags=re.M)


def test_tune_script_refuses_bad_input_before_searching(tmp_path):
    cases = [
        (["--fixed", "widht=2"], "no hyperparameter or argument 'widht'"),
        (["--override", "learning_rate=(0.1,0.001)"], "inverted"),
        (["--objective", "val_auc"], "'val_auc' is not logged"),
        (["--max-trials", "0"], "--max-trials"),
    ]
    from zoo.jobs import tune

    for argv, message in cases:
        args = tune.build_parser().parse_args(["mlp", "--directory", str(tmp_path), *argv])
        with pytest.raises(ValueError, match=message):
            tune.run(args, argv)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_a_killed_search_resumes_without_rerunning_finished_trials(tmp_path):
    """Also the acceptance run's outputs: keras-tuner's progress, the table, the files."""
    command = _command(tmp_path, "--algorithm", "hyperband", "--max-trials", "3")
    project = tmp_path / "mlp-fashion_mnist-hyperband"
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, cwd=ROOT, env=_env())
    deadline = time.time() + 240
    while time.time() < deadline and first.poll() is None:
        # keras-tuner records the finished trial, then its own state (tuner0.json)
        if (any(t["status"] == "COMPLETED" for t in _trials(project).values())
                and (project / "tuner0.json").is_file()):
            break
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done = {k: t for k, t in _trials(project).items() if t["status"] == "COMPLETED"}
    assert 1 <= len(done) < 3, first.stdout.read()[-3000:]

    second = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=_env(),
                            timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Reloading Tuner" in second.stdout
    rerun = {trial for _, trial in _ran(second.stdout)}
    assert rerun and not rerun & set(done), (rerun, set(done))
    trials = _trials(project)
    assert len(trials) == 3 and all(t["status"] == "COMPLETED" for t in trials.values())
    for trial_id, trial in done.items():  # untouched by the second run
        assert trials[trial_id]["score"] == trial["score"]
        assert trials[trial_id]["hyperparameters"] == trial["hyperparameters"]

    assert "Search: Running Trial #3" in second.stdout  # keras-tuner's own progress
    table = second.stdout.split("trial  status")[1].split("\n\n")[0]
    assert len(re.findall(r"^\d+\s+COMPLETED\s+1\s", table, flags=re.M)) == 3
    best = json.loads((project / "best_hyperparameters.json").read_text())
    assert set(best["hyperparameters"]) == {"dropout", "learning_rate"}
    assert best["model_arguments"]["hidden_units"] == [16]
    assert best["trials"] == 3 and 0 < best["test"]["accuracy"] <= 1
    assert best["score"] == max(t["score"] for t in trials.values())

    import keras

    import zoo

    assert zoo.list_models("mlp")  # registers the classes for loading
    model = keras.saving.load_model(project / "best_model.keras")
    assert model.hidden_units == (16,)
    assert model.dropout == pytest.approx(best["hyperparameters"]["dropout"])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_chief_and_two_workers_run_each_trial_once(tmp_path):
    port = str(_free_port())
    command = _command(tmp_path, "--algorithm", "random", "--max-trials", "4")
    procs = {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        env = _env(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP="127.0.0.1",
                   KERASTUNER_ORACLE_PORT=port)
        procs[tuner_id] = subprocess.Popen(command, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    outputs = {}
    try:
        for tuner_id, proc in procs.items():
            outputs[tuner_id] = proc.communicate(timeout=240)[0]
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    for tuner_id, proc in procs.items():
        assert proc.returncode == 0, (tuner_id, outputs[tuner_id][-3000:])
    ran = _ran(outputs["tuner0"]) + _ran(outputs["tuner1"])
    assert sorted(trial for _, trial in ran) == ["0", "1", "2", "3"], ran  # each exactly once
    assert {tuner for tuner, _ in ran} <= {"tuner0", "tuner1"}
    assert not _ran(outputs["chief"])  # the chief hands out trials, runs none
    trials = _trials(tmp_path / "mlp-fashion_mnist-random")
    assert len(trials) == 4 and all(t["status"] == "COMPLETED" for t in trials.values())
    assert len(re.findall(r"^\d+\s+COMPLETED\s", outputs["chief"], flags=re.M)) == 4
    assert (tmp_path / "mlp-fashion_mnist-random" / "best_model.keras").is_file()
