"""Every registered family's space: its configurations build, its objective is logged,
and a one-trial search runs where the family trains differently (text, players, ELBO)."""

import gc

import keras_tuner
import numpy as np
import pytest

import zoo
from zoo.registry import get as registry_entry
from zoo.tuning.zoo_hypermodel import constructor_arguments

IMAGE = dict(input_shape=(32, 32, 3), num_classes=3, width_multiplier=0.125)
GENERATIVE = dict(input_shape=(8, 8, 1))
# Small arguments per family, so building and a step take little time.
TINY = {
    "mlp": dict(input_shape=(8,), num_classes=3),
    "perceptron": dict(input_shape=(2,)),
    "alexnet": IMAGE, "vgg": IMAGE, "googlenet": IMAGE, "resnet": IMAGE, "densenet": IMAGE,
    "speednet": IMAGE,
    "swin": IMAGE,
    "mobilenet": IMAGE, "efficientnet": IMAGE,
    "convnext": IMAGE, "regnet": IMAGE,
    "inception": dict(IMAGE, input_shape=(75, 75, 3)),
    "vit": dict(input_shape=(16, 16, 3), num_classes=3, hidden_dim=16, num_heads=2, depth=1,
                patch_size=8),
    "rnn": dict(vocabulary_size=50, sequence_length=8),
    "autoencoder": GENERATIVE, "vae": GENERATIVE, "gan": GENERATIVE,
}
# The width each family's space searches (at its default arguments).
WIDTH = {
    "mlp": "units", "perceptron": None,
    "alexnet": "width_multiplier", "vgg": "width_multiplier", "googlenet": "width_multiplier",
    "resnet": "width_multiplier", "densenet": "width_multiplier", "speednet": "width_multiplier",
    "swin": "width_multiplier",
    "mobilenet": "width_multiplier", "efficientnet": "width_multiplier",
    "convnext": "width_multiplier", "regnet": "width_multiplier", "inception": "width_multiplier",
    "vit": "hidden_dim",
    "rnn": "units", "autoencoder": "base_filters", "vae": "base_filters",
    "gan": "base_filters",
}

# Depth and regularisation axes a family's space searches beyond the width (issue 22).
DEPTH = {"efficientnet": ("depth_multiplier", "stochastic_depth_rate")}


def _input_size(name):
    entry = registry_entry(name)
    defaults = {**constructor_arguments(entry.cls), **entry.defaults}
    shape = defaults.get("input_shape")
    return int(np.prod(shape)) if isinstance(shape, (tuple, list)) else 0


def _families():
    names = {}
    for name in zoo.list_models():
        names.setdefault(registry_entry(name).family, []).append(name)
    # the name whose default input is smallest stands for its family
    return {f: min(ns, key=lambda n: (_input_size(n), len(n), n)) for f, ns in names.items()}


FAMILIES = _families()


def test_the_families_the_search_tests_name_are_registered():
    """A renamed family fails here (and in the tests below), instead of being skipped."""
    assert set(FAMILIES) == set(TINY), set(FAMILIES) ^ set(TINY)
    assert {"rnn", "vae", "gan"} <= set(FAMILIES)


@pytest.fixture(autouse=True)
def _frozen_heap():
    """keras-tuner runs gc.collect() around every trial; the objects the test session
    already holds are left out of those scans (time only, no effect on results)."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


def _lowest(hm):
    """A configuration with every searched hyperparameter at its low end / first choice."""
    hp = keras_tuner.HyperParameters()
    for spec in hm.space.hyperparameters:
        values = getattr(spec, "values", None)
        hp.values[spec.name] = (repr(tuple(values[0])) if isinstance(values[0], tuple)
                                else values[0]) if values else spec.min_value
    return hp


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_builds_its_space_and_logs_its_objective(family):
    assert family in TINY, f"add a tiny configuration of the new family {family!r} here"
    name = FAMILIES[family]
    searched = zoo.hypermodel(name).space.names
    assert WIDTH[family] is None or WIDTH[family] in searched, searched
    assert {"learning_rate", "d_learning_rate"} & set(searched), searched
    assert set(DEPTH.get(family, ())) <= set(searched), searched
    hm = zoo.hypermodel(name, **TINY[family], evaluation={"dataset": "fashion_mnist"})
    entry = registry_entry(name)
    family_defaults = {**constructor_arguments(entry.cls), **entry.defaults, **TINY[family]}
    for key, value in hm.arguments(hm.default_values()).items():  # the default configuration
        assert value == family_defaults[key], (key, value, family_defaults[key])
    low = _lowest(hm)
    model = hm.build(low)  # one build: deep families take seconds
    for key, value in hm.arguments(low.values).items():
        assert getattr(model, key, value) == value or key in ("input_shape", "num_classes")
    hm.check_objective(hm.space.objective, model=model)


def _images(n, shape=(8, 8, 1), seed=0):
    x = np.random.default_rng(seed).uniform(size=(n, *shape)).astype("float32")
    return x, np.zeros(n, "int32")


def _search(name, tmp_path, x, y, validation, objective=None, **kwargs):
    hm = zoo.hypermodel(name, **kwargs)
    tuner = zoo.tuner(hm, "random", objective=objective, max_trials=1, directory=tmp_path,
                      seed=2)
    batches = {} if hasattr(x, "element_spec") else {"batch_size": 16}
    tuner.search(x, y, validation_data=validation, epochs=1, verbose=0, **batches)
    (trial,) = tuner.oracle.trials.values()
    assert trial.status == "COMPLETED" and np.isfinite(trial.score), trial.status
    return tuner, trial


def test_a_text_classifier_search_adapts_its_vocabulary(tmp_path):
    import tensorflow as tf

    words = np.array(["good fun great", "bad dull awful", "great good", "awful bad"] * 16)
    labels = np.array([1, 0, 1, 0] * 16, "int32")
    train = tf.data.Dataset.from_tensor_slices((words, labels)).batch(16)
    tuner, trial = _search(FAMILIES["rnn"], tmp_path, train, None, train,
                           **TINY["rnn"], overrides={"embedding_dim": (4, 8),
                                                     "units": (4, 8)})
    best = tuner.get_best_models(1)[0]
    best.adapt(train)  # a checkpoint holds weights, not the vocabulary
    assert best.evaluate(train, return_dict=True, verbose=0)["accuracy"] == pytest.approx(
        trial.score, abs=1e-6)


def test_a_vae_search_ranks_by_the_elbo_across_betas(tmp_path):
    x, _ = _images(64)
    _, trial = _search("vae", tmp_path, x, None, (x[:32], np.zeros(32)), **TINY["vae"],
                       overrides={"latent_dim": (2, 4), "base_filters": (4, 8)})
    assert trial.metrics.get_best_value("elbo") == trial.score < 0
    assert "beta" in trial.hyperparameters.values


def test_a_gan_search_sets_each_players_rate_and_scores_a_frechet_distance(tmp_path):
    import keras_tuner as kt

    x, _ = _images(64)
    features = zoo.create("mlp", input_shape=(8, 8, 1), hidden_units=(8,))
    with pytest.raises(ValueError, match="needs dataset='fashion_mnist'"):
        zoo.tuner(zoo.hypermodel(FAMILIES["gan"], **TINY["gan"]), directory=tmp_path)
    hm_kwargs = dict(overrides={"latent_dim": (16, 32), "base_filters": (16, 32)},
                     evaluation={"feature_model": features, "num_samples": 32}, **TINY["gan"])
    tuner, trial = _search(FAMILIES["gan"], tmp_path, x, None, (x[:32], np.zeros(32)),
                           objective=kt.Objective("frechet_distance", "min"), **hm_kwargs)
    values = trial.hyperparameters.values
    model = tuner.hypermodel.build(trial.hyperparameters)
    for player in ("d", "g"):
        lr = model.optimizer[player].learning_rate
        assert float(lr) == pytest.approx(values[f"{player}_learning_rate"], rel=1e-6)
