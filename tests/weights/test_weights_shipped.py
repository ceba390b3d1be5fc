"""The weights shipped inside the package: offline loading and re-measured accuracy."""

import json
import socket
import urllib.request

import pytest

import zoo
from zoo import weights as zw
from zoo.jobs import evaluate

SHIPPED = [spec.name for spec in zw.list_weights() if spec.url.startswith("package://")]
CLASSIFIERS = [name for name in SHIPPED if "accuracy" in zw.get_weights(name).metrics]


def test_the_promised_entries_are_shipped():
    assert "mlp.fashion_mnist" in SHIPPED
    spec = zw.get_weights("mlp.fashion_mnist")
    assert spec.metrics["accuracy"] >= 0.885
    assert spec.license == "Apache-2.0" and spec.dataset == "fashion_mnist"


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty cache and no network: any connection attempt fails the test."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "empty-zoo-home"))

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access while offline: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.mark.jax
@pytest.mark.torch
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_entry_loads_offline(name, offline, tmp_path):
    spec = zw.get_weights(name)
    model = zoo.create(spec.model, weights=spec.tag)
    assert model.count_params() == spec.params
    cached = tmp_path / "empty-zoo-home" / "weights" / spec.filename
    assert cached.stat().st_size == spec.size and zw.sha256_of(cached) == spec.sha256
    assert zoo.create(spec.model, weights=spec.tag).count_params() == spec.params


@pytest.mark.slow
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_shipped_accuracy_is_still_true(name, offline, capsys):
    """Re-measures with the recorded evaluation command's code on the real test set."""
    spec = zw.get_weights(name)
    argv = spec.evaluation_command.split()[2:]  # drop "python scripts/evaluate.py"
    assert argv[:3] == [spec.model, "--weights", spec.tag]
    assert evaluate.main(argv + ["--batch-size", "2500", "--json"]) == 0
    measured = json.loads(capsys.readouterr().out)
    assert measured["accuracy"] == pytest.approx(spec.metrics["accuracy"], abs=0.002)
