"""Searches: an interrupted trial reruns to the same score, a changed search is refused."""

import json
import os

import keras
import pytest
from search_testlib import frozen_heap, toy_data  # noqa: F401 (autouse fixture)
from reliability_testlib import call, one_error_line

import zoo
from zoo.jobs import tune
from zoo.utils import files

TINY = dict(input_shape=(8,), num_classes=3, hidden_units=(8,))
SEARCH = dict(max_trials=2, seed=5, project_name="p")


class SimulatedKill(BaseException):
    """What a SIGKILL does to a search: nothing after it runs (keras-tuner catches
    only `Exception`)."""


def _search(directory, callbacks=(), **overrides):
    hm = zoo.hypermodel("mlp", **TINY, overrides={"learning_rate": (1e-3, 1e-1)})
    tuner = zoo.tuner(hm, "random", directory=directory, **{**SEARCH, **overrides})
    x, y = toy_data()
    tuner.search(x, y, validation_data=toy_data(48, 1), epochs=1, batch_size=16, verbose=0,
                 callbacks=list(callbacks))
    return tuner


def _scores(tuner):
    return {t.trial_id: t.score for t in tuner.oracle.trials.values()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The scores of the uninterrupted search."""
    scores = _scores(_search(tmp_path_factory.mktemp("reference")))
    assert len(scores) == 2 and all(s is not None for s in scores.values())
    return scores


class KillInTrial(keras.callbacks.Callback):
    """Kills the search in the middle of the `fit` number `at` (0-based)."""

    fits = 0

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_train_begin(self, logs=None):
        self.number = KillInTrial.fits
        KillInTrial.fits += 1

    def on_train_batch_end(self, batch, logs=None):
        if self.number == self.at and batch == 2:
            raise SimulatedKill("in the middle of a trial")


def test_a_trial_interrupted_mid_fit_reruns_to_the_uninterrupted_score(reference, tmp_path):
    """Its seed comes from (search seed, trial id), not from what ran before it."""
    KillInTrial.fits = 0
    with pytest.raises(SimulatedKill):
        _search(tmp_path, callbacks=[KillInTrial(at=1)])
    keras.utils.set_random_seed(1234)  # whatever the process did in between
    resumed = _search(tmp_path)
    assert _scores(resumed) == pytest.approx(reference, rel=1e-6, abs=1e-7)


def test_a_search_killed_while_recording_a_trial_resumes(reference, tmp_path):
    seen = []

    def kill_at_the_third_trial_record(path, stage):
        if os.path.basename(path) == "trial.json" and stage == "written":
            seen.append(path)
            if len(seen) == 3:  # trial 1 starting
                raise SimulatedKill(path)

    files.WRITE_HOOKS.append(kill_at_the_third_trial_record)
    try:
        with pytest.raises(SimulatedKill):
            _search(tmp_path)
    finally:
        files.WRITE_HOOKS.remove(kill_at_the_third_trial_record)
    for path in (tmp_path / "p").rglob("*.json"):
        json.loads(path.read_text())  # keras-tuner's records are whole
    resumed = _search(tmp_path)
    assert all(t.status == "COMPLETED" for t in resumed.oracle.trials.values())
    assert _scores(resumed) == pytest.approx(reference, rel=1e-6, abs=1e-7)


def test_a_search_resumed_with_other_settings_is_refused_naming_each(reference, tmp_path):
    _search(tmp_path, max_trials=1, search_settings={"epochs": 2, "dataset": "x"})
    hm = zoo.hypermodel("mlp", **TINY, overrides={"learning_rate": (1e-3, 1e-1)})
    with pytest.raises(ValueError, match=r"settings.epochs: 2 recorded, 3 now.*"
                                         r"settings.train_examples: None recorded, 64 now"):
        zoo.tuner(hm, "random", directory=tmp_path, **{**SEARCH, "max_trials": 1},
                  search_settings={"epochs": 3, "dataset": "x", "train_examples": 64})
    with pytest.raises(ValueError, match=r"seed: 5 recorded, 6 now"):
        zoo.tuner(hm, "random", directory=tmp_path, **{**SEARCH, "seed": 6},
                  search_settings={"epochs": 2, "dataset": "x"})
    # more trials is safe: the same search goes on
    more = zoo.tuner(hm, "random", directory=tmp_path, **{**SEARCH, "max_trials": 5},
                     search_settings={"epochs": 2, "dataset": "x"})
    assert len(more.oracle.trials) == 1


def test_tune_py_names_what_a_rerun_changed(tmp_path, capsys, monkeypatch):
    """The job's settings are part of the search: a rerun with another --epochs is refused,
    that difference alone named, before any data loads."""
    base = ["mlp", "--directory", str(tmp_path), "--fixed", "hidden_units=(4,)",
            "--max-trials", "1", "--train-examples", "64"]
    args = tune.build_parser().parse_args(base + ["--epochs", "1"])
    # what `tune.py ... --epochs 1` records before its first trial
    hm = zoo.hypermodel("mlp", fixed={"hidden_units": (4,), "input_shape": (28, 28, 1),
                                      "num_classes": 10},
                        evaluation={"dataset": "fashion_mnist"})
    zoo.tuner(hm, "random", max_trials=1, directory=tmp_path,
              project_name="mlp-fashion_mnist-random", seed=args.seed,
              search_settings=tune.search_settings(args, keras.backend.backend()))
    project = tmp_path / "mlp-fashion_mnist-random"
    before = sorted(p.name for p in project.iterdir())
    monkeypatch.setattr(zoo.datasets, "load_split", lambda *a, **k: pytest.fail("data loaded"))
    code, _, err = call(tune.main, base + ["--epochs", "2"], capsys)
    line = one_error_line(err)
    assert code == 2 and "(settings.epochs: 1 recorded, 2 now)" in line, err
    assert sorted(p.name for p in project.iterdir()) == before


def test_a_second_search_in_the_same_directory_refuses(tmp_path, capsys):
    from zoo.jobs.run_dir import DirectoryLock

    lock = DirectoryLock(tmp_path / "mlp-fashion_mnist-random", what="search")
    lock.path.mkdir()
    lock.acquire()
    try:
        code, _, err = call(tune.main, ["mlp", "--directory", str(tmp_path)], capsys)
    finally:
        lock.release()
    assert code == 2 and "in use by another search" in one_error_line(err)
