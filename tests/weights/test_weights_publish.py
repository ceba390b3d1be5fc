"""scripts/publish_weights.py: a real scripts/train.py run becomes an entry users can load."""

import json

import numpy as np
import pytest

import zoo
from zoo import weights as zw
from zoo.jobs import evaluate, publish_weights, train


@pytest.mark.slow
def test_publish_a_training_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))
    run_dir = tmp_path / "run"
    argv = ["mlp", "--dataset", "fashion_mnist", "--epochs", "1", "--batch-size", "512",
            "--model-arg", "hidden_units=(16,)", "--run-dir", str(run_dir), "--verbose", "0"]
    assert train.main(argv) == 0
    package = tmp_path / "package"
    assert publish_weights.main(
        [str(run_dir), "--name", "tiny", "--package-dir", str(package), "--batch-size", "2000"]
    ) == 0

    spec = zw.WeightsSpec.read(package / "mlp.tiny.json")
    config = json.loads((run_dir / "config.json").read_text())
    trained = json.loads((run_dir / "metrics.json").read_text())["test"]
    weights_file = package / "files" / "mlp.tiny.weights.h5"
    assert spec.name == "mlp.tiny" and spec.url == "package://files/mlp.tiny.weights.h5"
    assert spec.sha256 == zw.sha256_of(weights_file) and spec.size == weights_file.stat().st_size
    assert spec.training_command == config["command"]
    assert spec.training_command.startswith("python scripts/train.py mlp --dataset fashion_mnist")
    assert spec.evaluation_command == (
        "python scripts/evaluate.py mlp --weights tiny --dataset fashion_mnist"
    )
    assert spec.params == 784 * 16 + 16 + 16 * 10 + 10
    assert spec.model_config["hidden_units"] == [16] and spec.input_shape == (28, 28, 1)
    assert spec.license == "Apache-2.0" and spec.dataset_license.startswith("MIT")
    # measured on the rebuilt model: the same numbers the run measured at its end
    assert spec.metrics["accuracy"] == pytest.approx(trained["accuracy"], abs=1e-6)
    assert 0.5 < spec.metrics["accuracy"] < 1
    assert "accuracy: " in capsys.readouterr().out

    # the entry works for users, and evaluate.py prints its recorded accuracy
    monkeypatch.setitem(zw._entries(), spec.name, spec)
    model = zoo.create("mlp", weights="tiny")
    assert model.hidden_units == (16,)
    assert evaluate.main(["mlp", "--weights", "tiny", "--dataset", "fashion_mnist",
                          "--batch-size", "2000"]) == 0
    printed = capsys.readouterr().out
    assert f"accuracy: {spec.metrics['accuracy']:.4f}" in printed

    # publishing again needs --force; a url that is not live yet is measured from the cache
    assert publish_weights.main([str(run_dir), "--name", "mlp.tiny", "--package-dir",
                                 str(package)]) == 2
    assert "--force" in capsys.readouterr().err
    url = "http://127.0.0.1:9/mlp.tiny.weights.h5"
    assert publish_weights.main([str(run_dir), "--name", "mlp.tiny", "--package-dir",
                                 str(package), "--force", "--url", url]) == 0
    again = zw.WeightsSpec.read(package / "mlp.tiny.json")
    assert again.url == url and again.sha256 == zw.sha256_of(weights_file)
    assert again.metrics["accuracy"] == pytest.approx(spec.metrics["accuracy"], abs=1e-6)


def test_publish_refuses_bad_runs(tmp_path, capsys):
    assert publish_weights.main([str(tmp_path / "nope"), "--name", "x"]) == 2
    assert "run_dir" in capsys.readouterr().err
    (tmp_path / "run").mkdir()
    assert publish_weights.main([str(tmp_path / "run"), "--name", "x"]) == 2
    assert "config.json is missing" in capsys.readouterr().err


def test_evaluate_refuses_weights_with_a_saved_model(tmp_path, capsys):
    model = zoo.create("mlp", input_shape=(6,), num_classes=2, hidden_units=(3,))
    model.save(tmp_path / "m.keras")
    assert evaluate.main([str(tmp_path / "m.keras"), "--weights", "x"]) == 2
    assert "--weights" in capsys.readouterr().err
    assert np.isfinite(model.count_params())
