"""`scripts/train.py wgan_gp --dataset fashion_mnist` writes sample grids (a few real batches)."""

import json
import warnings
from pathlib import Path

import pytest

import zoo
from zoo.jobs import evaluate as evaluate_job
from zoo.jobs import train as train_job


def _few_batches(monkeypatch, batches=2):
    load = zoo.datasets.load

    def small_load(name, batch_size=128, seed=0, **kwargs):
        train, test = load(name, batch_size=batch_size, seed=seed, **kwargs)
        return train.take(batches), test.take(batches)

    # evaluate.py's data path cut to a few batches (train.py's: --limit): the same code
    monkeypatch.setattr(zoo.datasets, "load", small_load)


@pytest.mark.slow
def test_generative_train_job_writes_sample_grid(tmp_path, monkeypatch, capsys):
    from tests_generative_helpers import tensorboard_image_tags

    _few_batches(monkeypatch)
    run_dir = tmp_path / "g"
    argv = ["wgan_gp", "--dataset", "fashion_mnist", "--epochs", "1", "--batch-size", "32",
            "--limit", "128", "--run-dir", str(run_dir), "--model-arg", "filters=(8,16)",
            "--verbose", "0"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert train_job.main(argv) == 0
    # a GAN keeps its latest states but no "best" model (no logged loss ranks generators)
    assert not [str(w.message) for w in caught if "Checkpoint" in str(w.message)]
    assert not (run_dir / "checkpoints" / "best.keras").exists()
    assert any((run_dir / "checkpoints").iterdir())
    assert (run_dir / "samples-epoch001.png").is_file()
    assert tensorboard_image_tags(run_dir / "tensorboard" / "train") == [("samples", 1)]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model_config"]["input_shape"] == [28, 28, 1]
    assert "num_classes" not in config["model_config"]
    history = json.loads((run_dir / "history.json").read_text())
    assert {"d_loss", "g_loss", "gp", "wasserstein", "val_d_loss"} <= set(history)

    # scripts/evaluate.py prints FID-FMNIST in the given classifier's features
    classifier = tmp_path / "mlp.keras"
    zoo.create("mlp", hidden_units=(16, 8)).save(classifier)
    capsys.readouterr()
    argv = [str(run_dir), "--dataset", "fashion_mnist", "--json",
            "--feature-model", str(classifier)]
    assert evaluate_job.main(argv) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["fid_fmnist"] > 0 and "d_loss" in figures


@pytest.mark.slow
def test_generative_train_and_evaluate_autoencoder(tmp_path, monkeypatch, capsys):
    _few_batches(monkeypatch)
    run_dir = tmp_path / "ae"
    argv = ["denoising_autoencoder", "--dataset", "fashion_mnist", "--epochs", "1",
            "--limit", "256", "--run-dir", str(run_dir), "--model-arg", "variant='dense'",
            "--verbose", "0"]
    assert train_job.main(argv) == 0
    assert Path(run_dir / "denoising-epoch001.png").is_file()
    capsys.readouterr()
    assert evaluate_job.main([str(run_dir), "--dataset", "fashion_mnist", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"reconstruction_mse", "reconstruction_bce"}
    assert 0 < figures["reconstruction_mse"] < 0.2
    # a feature model means nothing to an autoencoder: a clear error, not a silent ignore
    assert evaluate_job.main([str(run_dir), "--feature-model", "x.keras"]) == 2
    assert "--feature-model" in capsys.readouterr().err
