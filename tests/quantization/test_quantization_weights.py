"""Weights entries that carry int8 artifacts: recorded, round-tripped, fetched and verified
like weights files; publish_weights refuses bad --int8 requests before any work."""

import dataclasses
import hashlib

import pytest

from zoo import weights as zw
from zoo.jobs import publish_weights
from zoo.weights.artifacts import ArtifactSpec


def _entry(tmp_path, payload=b"int8 onnx bytes", **changes):
    files = tmp_path / "files"
    files.mkdir(exist_ok=True)
    (files / "mlp.t.int8.onnx").write_bytes(payload)
    (files / "mlp.t.weights.h5").write_bytes(b"weights")
    artifact = dict(format="onnx", quantization="int8", method="dynamic",
                    calibration="fashion_mnist:512 (512 examples of the training split, seed 0)",
                    url="package://files/mlp.t.int8.onnx",
                    sha256=hashlib.sha256(payload).hexdigest(), size=len(payload),
                    command="python scripts/export.py mlp --weights t --format onnx --quantize "
                            "int8 --calibration fashion_mnist:512 --output mlp.t.int8.onnx",
                    metrics={"accuracy": 0.889}, input={"name": "images", "dtype": "uint8"})
    artifact.update(changes)
    spec = zw.WeightsSpec(
        name="mlp.t", model="mlp", model_config={}, url="package://files/mlp.t.weights.h5",
        sha256=hashlib.sha256(b"weights").hexdigest(), size=7, dataset="fashion_mnist",
        metrics={"accuracy": 0.89}, evaluation_command="", params=1, input_shape=(28, 28, 1),
        preprocessing="", training_command="", license="Apache-2.0", artifacts=[artifact],
        root=str(tmp_path))
    return spec


def test_an_entry_records_its_artifacts_and_round_trips(tmp_path):
    spec = _entry(tmp_path)
    artifact = spec.artifacts[0]
    assert isinstance(artifact, ArtifactSpec) and artifact.entry == "mlp.t"
    assert artifact.name == "mlp.t.int8.onnx"
    assert artifact.filename == f"mlp.t.int8.onnx-{artifact.sha256[:12]}.onnx"
    spec.write(tmp_path / "mlp.t.json")
    again = zw.WeightsSpec.read(tmp_path / "mlp.t.json")
    assert again == spec and again.artifacts[0].root == str(tmp_path)
    assert again.to_json()["artifacts"][0]["calibration"].startswith("fashion_mnist:512")
    assert "artifacts" not in dataclasses.replace(spec, artifacts=()).to_json()


def test_an_artifact_is_fetched_verified_and_a_changed_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    spec = _entry(tmp_path)
    path = zw.fetch_artifact(spec, "onnx")
    assert path.read_bytes() == b"int8 onnx bytes" and path.parent.name == "weights"
    path.write_bytes(b"int8 onnx bytez")  # same size, other bytes: the hash catches it
    with pytest.raises(zw.WeightsIntegrityError, match="sha256"):
        zw.fetch_artifact(spec, "onnx")
    assert not path.exists()
    with pytest.raises(ValueError, match=r"carry no int8 litert artifact \(they carry: "
                                         r"\['int8 onnx'\]\)"):
        zw.fetch_artifact(spec, "litert")


@pytest.mark.parametrize("change,match", [
    (dict(format="tf_saved_model"), "`format` must be one of"),
    (dict(quantization="int4"), "`quantization` must be one of"),
    (dict(sha256="abc"), "64 lowercase hex digits"),
    (dict(size=0), "`size` must be an int > 0"),
    (dict(calibration=""), "records its calibration data"),
    (dict(url="package://../x.onnx"), "without '..'"),
    (dict(colour="red"), "Unknown artifact fields: \\['colour'\\]"),
])
def test_a_bad_artifact_record_is_refused(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        _entry(tmp_path, **change)


@pytest.mark.parametrize("argv,match", [
    (["--int8", "pdf", "--calibration", "fashion_mnist"], "`--int8` takes formats among"),
    (["--int8", "onnx"], "--quantize int8 needs --calibration"),
    (["--int8", "onnx", "--calibration", "fashion_mnist:test:64"], "the test split is kept"),
    (["--calibration", "fashion_mnist"], "`--calibration` goes with --int8"),
])
def test_publish_refuses_a_bad_int8_request_before_any_work(tmp_path, capsys, argv, match):
    code = publish_weights.main([str(tmp_path / "no-run"), "--name", "t", *argv])
    err = capsys.readouterr().err
    assert code == 2 and match in err and len(err.strip().splitlines()) == 1, err
