"""scripts/train.py, scripts/evaluate.py and the zoo command, as a user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args, quiet_env=True, **kwargs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if not quiet_env:  # as a user's shell has it: TensorFlow's log level not set
        env.pop("TF_CPP_MIN_LOG_LEVEL")
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        **kwargs,
    )


@pytest.mark.slow
def test_train_script_writes_the_run_and_reaches_demo_accuracy(tmp_path):
    """`make demo`'s command: 5 epochs of the seed MLP on real Fashion-MNIST."""
    run_dir = tmp_path / "run"
    out = _run(
        ["scripts/train.py", "mlp", "--dataset", "fashion_mnist", "--epochs", "5",
         "--run-dir", str(run_dir)],
        quiet_env=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    # no TensorFlow C++ start-up noise (make demo's acceptance)
    noise = [line for line in (out.stdout + out.stderr).splitlines()
             if any(word in line for word in ("cuInit", "oneDNN", "absl"))]
    assert noise == []
    accuracy = float(out.stdout.split("test accuracy:")[1].split()[0])
    assert accuracy >= 0.87
    config = json.loads((run_dir / "config.json").read_text())
    assert config["command"].startswith("python scripts/train.py mlp --dataset fashion_mnist")
    assert config["params"] == 244522 and config["model_config"]["hidden_units"] == [
        256,
        128,
        64,
        32,
    ]
    # chosen on a seeded tenth of the training data; the test split is read once, at the end
    assert config["data"]["validation"] == 6000 and config["data"]["train"] == 54000
    assert config["data"]["test"] == 10000 and config["data"]["selection"] == "validation"
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["loss"]) == 5 and "val_accuracy" in history and "lr" in history
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert (run_dir / "model.keras").is_file()

    evaluated = _run(["scripts/evaluate.py", str(run_dir), "--dataset", "fashion_mnist", "--json"])
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert json.loads(evaluated.stdout)["accuracy"] == pytest.approx(accuracy, abs=1e-4)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mlpp"], "Received: name='mlpp'"),
        (["mlp", "--optimizer", "adamm"], "optimizer='adamm'"),
        (["mlp", "--dataset", "nope"], "name='nope'"),
        (["mlp", "--model-arg", "hidden_units=(0,)"], "hidden_units"),
        (["mlp", "--epochs", "0"], "--epochs"),
        (["mlp", "--lr", "-1"], "lr=-1"),
    ],
)
def test_train_job_rejects_bad_input_before_loading_data(
    argv, message, tmp_path, capsys, monkeypatch
):
    from zoo import datasets
    from zoo.jobs import train

    def no_loading(*args, **kwargs):
        raise AssertionError("data was loaded before the input was checked")

    for loader in ("load", "load_split", "load_arrays"):
        monkeypatch.setattr(datasets, loader, no_loading)
    assert train.main(argv + ["--run-dir", str(tmp_path / "r")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_zoo_command(capsys):
    from zoo import cli

    assert cli.main(["list", "perc*"]) == 0
    assert capsys.readouterr().out.split() == ["perceptron"]
    assert cli.main(["nope"]) == 2


def test_zoo_command_backend_flag_restarts_on_that_backend():
    code = "import keras, zoo.cli, sys; zoo.cli.main(['info', 'mlp', '--backend', 'jax'])"
    out = _run(["-c", code])
    assert out.returncode == 0, out.stderr[-2000:]
    info = json.loads(out.stdout)
    assert info["params"] == 244522 and info["backend"] == "jax"
