"""Sane values where they enter: weights files, saved models, the records of a run."""

import numpy as np
import pytest
from reliability_testlib import call, one_error_line

import zoo
from zoo.jobs import evaluate, train


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))


def _tiny():
    return zoo.create("mlp", input_shape=(6,), num_classes=3, hidden_units=(4,))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_weights_with_nan_or_inf_are_refused_at_load_naming_file_and_variable(
        bad, tmp_path, capsys):
    """The issue's case: evaluate.py on a weights file with a NaN bias exited 0 with
    "accuracy: 0.1000, loss: nan"; a later fit blamed the update."""
    model = _tiny()
    kernel = model.get_layer("logits").bias
    kernel.assign(np.where(np.arange(3) == 1, bad, 0.0).astype("float32"))
    path = tmp_path / "bad.weights.h5"
    model.save_weights(str(path))
    model.save(str(tmp_path / "bad.keras"))
    named = r"bad.weights.h5 are not finite: first at layer 'logits' \(.*\): 1 of 3 values"
    with pytest.raises(ValueError, match=named):
        zoo.create("mlp", weights=str(path), input_shape=(6,), num_classes=3,
                   hidden_units=(4,))
    with pytest.raises(ValueError, match=named):
        zoo.weights.load_weights(_tiny(), str(path))
    code, out, err = call(evaluate.main, [str(tmp_path / "bad.keras")], capsys)
    assert code == 2 and "bad.keras are not finite" in one_error_line(err) and not out


def test_the_input_checks_a_model_carries_survive_a_keras_file(tmp_path):
    """The issue's case: the mlp's fashion_mnist weights, saved and reloaded, took raw
    uint8 pixels and gave logits around -1739."""
    import keras

    model = zoo.create("mlp", weights="fashion_mnist")
    model.save(str(tmp_path / "w.keras"))
    reloaded = keras.saving.load_model(str(tmp_path / "w.keras"))
    assert reloaded.input_range == model.input_range is not None
    pixels = np.full((2, 28, 28, 1), 200, "uint8")
    with pytest.raises(ValueError, match=r"expect inputs in \[0, 1\]"):
        reloaded.predict(pixels, verbose=0)
    assert reloaded.predict(pixels / 255.0, verbose=0).shape == (2, 10)
    assert type(reloaded).from_config(reloaded.get_config()).input_range == model.input_range


@pytest.mark.parametrize("flag, value", [("--lr", "inf"), ("--lr", "nan"),
                                         ("--momentum", "nan"), ("--max-lr", "-1"),
                                         ("--gamma", "inf"), ("--pct-start", "1.5")])
def test_rates_that_cannot_train_are_refused_before_a_run_directory_exists(
        flag, value, tmp_path, capsys):
    run = tmp_path / "run"
    code, _, err = call(train.main, ["mlp", "--run-dir", str(run), flag, value], capsys)
    assert code == 2 and f"Received: {flag}=" in one_error_line(err), err
    assert not run.exists()


def test_hparams_hold_the_values_the_run_trains_with():
    """The issue's case: a WGAN-GP run showed `lr: default` in TensorBoard's HParams."""
    def hparams(*argv, **model_args):
        args = train.build_parser().parse_args(list(argv))
        optimizer = train.make_optimizer(args.optimizer, args.lr, args.momentum)
        schedule = train.make_schedule(args, optimizer)
        model = zoo.create(args.model, **model_args)
        model.compile(optimizer=optimizer)
        return train._hparams(args, model, schedule)

    assert {k: v for k, v in hparams("mlp").items() if k in ("lr", "momentum", "max_lr")} == {
        "lr": 0.001, "momentum": 0.9, "max_lr": 0.001}
    cycled = hparams("mlp", "--optimizer", "sgd", "--schedule", "onecycle", "--max-lr", "0.4")
    assert (cycled["lr"], cycled["max_lr"], cycled["momentum"]) == (0.016, 0.4, 0.95)
    gan = hparams("wgan_gp", "--lr", "2e-4", input_shape=(8, 8, 1), latent_dim=4,
                  filters=(4,), variant="dense", hidden_units=(8,))
    assert gan["d_lr"] == gan["g_lr"] == 2e-4 and "default" not in gan.values()
