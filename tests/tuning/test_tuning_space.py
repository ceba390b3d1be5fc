"""Search spaces: user ranges, fixing/narrowing/extending, and bad input caught before any trial."""

import keras_tuner
import pytest

import zoo
from zoo.tuning import space
from zoo.tuning.space import Choice, Float, Int

MLP = dict(input_shape=(8,), num_classes=3)


# ------------------------------------------------------------------ user ranges
def test_a_pair_narrows_a_range_keeping_its_kind_and_sampling():
    base = Float("learning_rate", 1e-5, 1e-1, sampling="log", default=1e-3)
    spec = space.spec_from_user("learning_rate", (1e-4, 1e-2), base=base)
    assert spec == Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
    units = Int("units", 16, 1024, step=2, sampling="log", default=256)
    assert space.spec_from_user("units", (32, 128), base=units) == Int(
        "units", 32, 128, step=2, sampling="log"
    )  # 256 is outside: no default
    assert space.spec_from_user("units", (10, 100, "linear"), base=units).step is None
    assert space.spec_from_user("units", [64, 128], base=units) == Choice("units", (64, 128))
    assert space.spec_from_user("units", {"max_value": 512}, base=units).max_value == 512


def test_new_ranges_take_their_kind_from_the_bounds():
    assert space.spec_from_user("latent_dim", (2, 8)) == Int("latent_dim", 2, 8)
    assert space.spec_from_user("beta", (0.5, 4.0, "log")) == Float(
        "beta", 0.5, 4.0, sampling="log"
    )
    tuples = space.spec_from_user("hidden_units", [(64,), (128, 64)])
    hp = keras_tuner.HyperParameters()
    assert tuples.declare(hp) == (64,)  # carried as a repr, handed back as a tuple
    hp = keras_tuner.HyperParameters()
    hp.values["hidden_units"] = "(128, 64)"
    assert tuples.declare(hp) == (128, 64)


@pytest.mark.parametrize(
    "name, value, base, error, message",
    [
        ("learning_rate", (1e-2, 1e-4), None, ValueError, "inverted"),
        ("learning_rate", (1e-3, 1e-3), None, ValueError, "range is empty"),
        ("units", (8, 8), Int("units", 1, 10), ValueError, "range is empty"),
        ("activation", [], None, ValueError, "choices are empty"),
        ("learning_rate", (0.0, 1e-2, "log"), None, ValueError, "log sampling needs bounds > 0"),
        ("learning_rate", (1e-4, 1e-2, "cubic"), None, ValueError, "sampling"),
        ("units", (8.5, 16), Int("units", 1, 10), TypeError, "must be ints"),
        ("units", (1, 2, 3), None, ValueError, "give choices as a list"),
        ("units", "big", None, TypeError, "Received: units='big'"),
        ("optimizer", (1, 2), Choice("optimizer", ("adam", "sgd")), TypeError, "list of choices"),
        ("units", {"maximum": 3}, Int("units", 1, 10), ValueError, "unknown field"),
        ("units", [8, 8], None, ValueError, "repeat"),
    ],
)
def test_bad_ranges_are_refused_with_the_value(name, value, base, error, message):
    with pytest.raises(error, match=message):
        space.spec_from_user(name, value, base=base)


# ------------------------------------------------------------------ the hypermodel
def test_the_default_configuration_is_the_family_default():
    hm = zoo.hypermodel("mlp", **MLP)
    assert hm.default_values() == {
        "units": 256,
        "num_layers": 4,
        "dropout": 0.0,
        "learning_rate": 1e-3,
    }
    model = hm.build(keras_tuner.HyperParameters())
    expected = zoo.create("mlp", **MLP).get_config()
    assert {**model.get_config(), "name": None} == {**expected, "name": None}
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_fix_narrow_and_extend():
    hm = zoo.hypermodel(
        "mlp",
        fixed={"dropout": 0.1},
        num_classes=3,
        input_shape=(8,),
        overrides={"learning_rate": (1e-4, 1e-2), "units": [16, 32]},
        extend={"activation": ["relu", "gelu"], "optimizer": ["adam", "sgd"]},
    )
    assert hm.space.get("learning_rate") == Float(
        "learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3
    )
    assert hm.space.get("activation").default == "relu"
    assert hm.space.get("optimizer").default == "adam"
    hp = keras_tuner.HyperParameters()
    hp.values.update(
        {
            "units": 32,
            "num_layers": 2,
            "activation": "gelu",
            "optimizer": "sgd",
            "learning_rate": 0.005,
        }
    )
    model = hm.build(hp)
    assert hp.values["dropout"] == 0.1  # fixed values are recorded with the trial
    assert model.hidden_units == (32, 16) and model.activation == "gelu" and model.dropout == 0.1
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.005)
    assert model.optimizer.momentum == 0.9


def test_fixing_a_derived_argument_removes_the_hyperparameters_that_make_it():
    hm = zoo.hypermodel("mlp", hidden_units=(32, 16), **MLP)
    assert hm.space.names == ("dropout", "learning_rate")
    assert hm.build(keras_tuner.HyperParameters()).hidden_units == (32, 16)
    searched = zoo.hypermodel("mlp", extend={"hidden_units": [(8,), (16, 8)]}, **MLP)
    assert "units" not in searched.space.names and "hidden_units" in searched.space.names
    hp = keras_tuner.HyperParameters()
    assert searched.build(hp).hidden_units == (8,)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(dropuot=0.1), "has no hyperparameter or argument 'dropuot'.*Received: dropuot=0.1"),
        (dict(overrides={"widht": (1, 2)}), "no hyperparameter or argument 'widht'"),
        (dict(overrides={"activation": ["relu"]}), "not in the search space.*extend="),
        (dict(overrides={"learning_rate": (1e-2, 1e-4)}), "inverted"),
        (dict(overrides={"learning_rate": (0.0, 1e-2)}), "bounds > 0"),
        (dict(overrides={"units": []}), "choices are empty"),
        (dict(extend={"dropout": (0.0, 0.2)}), "already searched.*overrides="),
        (dict(extend={"colour": ["red"]}), "no hyperparameter or argument 'colour'"),
        (dict(extend={"num_classes": [2, 3]}), "no hyperparameter or argument 'num_classes'"),
        (dict(dropout=0.1, overrides={"dropout": (0.0, 0.2)}), "is fixed"),
        (dict(hidden_units=(8,), units=16), "is fixed, so the hyperparameter 'units'"),
        (dict(units=16, extend={"hidden_units": [(8,)]}), "searched directly"),
        (dict(evaluation="fashion_mnist"), "`evaluation` must be a dict"),
        (dict(learning_rate=-1.0), "learning_rate=-1.0"),
        (dict(optimizer="adamm"), "optimizer='adamm'"),
        (dict(schedule="linear"), "schedule='linear'"),
        (dict(extend={"schedule": ["constant", "step"]}), "schedule"),
        (dict(fixed=[("dropout", 0.1)]), "`fixed` must be a dict"),
        (dict(fixed={"dropout": 0.1}, dropout=0.2), "both in `fixed`"),
    ],
)
def test_bad_hypermodel_input_is_refused_at_once(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        zoo.hypermodel("mlp", **kwargs)


def test_unknown_model_names_and_objectives_are_refused_before_any_trial(tmp_path):
    with pytest.raises(ValueError, match="Received: name='mlpp'"):
        zoo.hypermodel("mlpp")
    with pytest.raises(ValueError, match="'val_acc' is not logged by 'mlp'.*val_accuracy"):
        zoo.tuner("mlp", objective="val_acc", directory=tmp_path)
    with pytest.raises(ValueError, match="'val_auc' is not logged"):
        zoo.tuner("mlp", objective=keras_tuner.Objective("val_auc", "max"), directory=tmp_path)
    with pytest.raises(ValueError, match="algorithm='grid'"):
        zoo.tuner("mlp", "grid", directory=tmp_path)
    with pytest.raises(ValueError, match="max_trials=0"):
        zoo.tuner("mlp", max_trials=0, directory=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing was started


def test_every_registered_family_has_a_space_whose_knobs_exist():
    """Each space's hyperparameters are constructor arguments, derived-argument inputs
    or training knobs of every registered name of the family."""
    from zoo.tuning.zoo_hypermodel import constructor_arguments

    families = {}
    for name in zoo.list_models():
        families.setdefault(zoo.registry.get(name).family, []).append(name)
    assert set(families) <= set(zoo.tuning.searchable_families()), set(families)
    for family, names in families.items():
        for name in names:
            hm = zoo.hypermodel(name)
            arguments = constructor_arguments(zoo.registry.get(name).cls)
            derived = {n for d in hm.space.derived for n in d.names}
            for d in hm.space.derived:
                assert d.argument in arguments, (name, d.argument)
            for spec in hm.space.hyperparameters:
                assert spec.name in arguments or spec.name in derived or spec.name in hm._knobs(), (
                    name,
                    spec.name,
                )
                assert spec.default is not None, (name, spec.name)  # the family default
