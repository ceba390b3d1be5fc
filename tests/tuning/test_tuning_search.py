"""Searches run in process on tiny data: each algorithm, resume, HParams, every family."""

import json

import keras_tuner
import numpy as np
import pytest
from search_testlib import frozen_heap, toy_data  # noqa: F401 (autouse fixture)

import zoo

TINY = dict(input_shape=(8,), num_classes=3, hidden_units=(8,))


def _hparams_written(log_dir):
    """HParams summaries (the TensorBoard HParams plugin's) under `log_dir`."""
    import tensorflow as tf

    found = 0
    for path in log_dir.rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found += value.metadata.plugin_data.plugin_name == "hparams"
    return found


@pytest.mark.parametrize("algorithm", [
    "random", "bayesian", pytest.param("hyperband", marks=pytest.mark.jax)])
def test_each_algorithm_runs_the_trials_it_is_given(algorithm, tmp_path):
    """Hyperband too stops at `max_trials` (here past its single-bracket iteration)."""
    import keras

    x, y = toy_data()
    hm = zoo.hypermodel("mlp", **TINY, overrides={"learning_rate": (1e-3, 1e-1)})
    extra = {"max_epochs": 1} if algorithm == "hyperband" else {}
    tuner = zoo.tuner(hm, algorithm, max_trials=2, directory=tmp_path, seed=1, **extra)
    assert isinstance(tuner, zoo.tuning.ALGORITHMS[algorithm])
    oracles = {"random": keras_tuner.oracles.RandomSearchOracle,
               "bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
               "hyperband": keras_tuner.oracles.HyperbandOracle}
    assert type(tuner.oracle) is oracles[algorithm]  # the algorithm that proposes trials
    tuner.search(x, y, validation_data=toy_data(48, 1), epochs=1, verbose=0,
                 callbacks=[keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))])
    trials = tuner.oracle.trials.values()
    assert len(trials) == 2 and all(t.status == "COMPLETED" for t in trials)
    assert len({t.hyperparameters.values["learning_rate"] for t in trials}) == 2
    best = tuner.get_best_models(1)[0]
    assert best.hidden_units == (8,)
    accuracy = best.evaluate(*toy_data(48, 1), return_dict=True, verbose=0)["accuracy"]
    assert accuracy == pytest.approx(tuner.oracle.get_best_trials(1)[0].score, abs=1e-6)
    # each trial logged to its own TensorBoard directory, with its hyperparameters
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == sorted(
        t.trial_id for t in trials)
    assert _hparams_written(tmp_path / "logs" / next(iter(trials)).trial_id) >= 1


def test_the_default_objective_and_resuming_the_same_search(tmp_path):
    x, y = toy_data()
    hm = zoo.hypermodel("mlp", **TINY)
    tuner = zoo.tuner(hm, "random", max_trials=2, directory=tmp_path, project_name="p", seed=3)
    assert tuner.oracle.objective.name == "val_accuracy"
    tuner.search(x, y, validation_data=toy_data(48, 1), epochs=1, verbose=0)
    first = {t.trial_id: t.score for t in tuner.oracle.trials.values()}

    again = zoo.tuner(zoo.hypermodel("mlp", **TINY), "random", max_trials=3,
                      directory=tmp_path, project_name="p", seed=3)
    assert {t.trial_id: t.score for t in again.oracle.trials.values()} == first
    again.search(x, y, validation_data=toy_data(48, 1), epochs=1, verbose=0)
    assert len(again.oracle.trials) == 3
    assert {k: again.oracle.trials[k].score for k in first} == first
    stored = json.loads((tmp_path / "p" / "zoo_search.json").read_text())
    assert stored["model"] == "mlp" and stored["algorithm"] == "random"

    with pytest.raises(ValueError, match="holds a different search"):
        zoo.tuner(zoo.hypermodel("mlp", **TINY, dropout=0.3), "random", max_trials=3,
                  directory=tmp_path, project_name="p")
    fresh = zoo.tuner(zoo.hypermodel("mlp", **TINY, dropout=0.3), "random", max_trials=3,
                      directory=tmp_path, project_name="p", overwrite=True)
    assert len(fresh.oracle.trials) == 0


def test_a_validation_objective_without_validation_data_stops_the_search_at_once(tmp_path):
    tuner = zoo.tuner(zoo.hypermodel("mlp", **TINY), max_trials=3, directory=tmp_path)
    with pytest.raises(ValueError, match="Received: validation_data=None"):
        tuner.search(*toy_data(), epochs=1, verbose=0)
    assert all(t.status != "COMPLETED" for t in tuner.oracle.trials.values())


@pytest.mark.jax
def test_the_cosine_schedule_anneals_the_learning_rate(tmp_path):
    x, y = toy_data()
    hm = zoo.hypermodel("mlp", **TINY, learning_rate=0.01, schedule="cosine")
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    history = hm.fit(hp, model, x, y, epochs=3, verbose=0)
    np.testing.assert_allclose(history.history["lr"], [0.01, 0.0075, 0.0025], rtol=1e-5)
