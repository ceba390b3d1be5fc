"""docs/quantization.md: every example runs (python blocks executed, each shell command run
in-process as its script would run it); the acceptance command scores within 0.5 points."""

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "quantization.md"
NOT_RUN = "not run in the tests"


def blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text(), re.S | re.M)


def commands():
    """(script, argv) of every command line of the page's sh blocks, in order."""
    out = []
    for block in blocks("sh"):
        for line in block.splitlines():
            line, _, comment = line.partition("#")
            if not line.strip() or NOT_RUN in comment:
                continue
            words = shlex.split(line)
            assert words[0] == "python" and words[1].startswith("scripts/"), line
            out.append((Path(words[1]).stem.replace("_", "-"), words[2:]))
    return out


def test_the_page_has_the_examples_it_promises():
    scripts = [script for script, _ in commands()]
    assert scripts == ["export", "evaluate", "export", "publish-weights", "bench"], scripts
    assert len(blocks("python")) == 3
    assert "python scripts/bench.py quantize --json-out" in DOC.read_text()


def _finished_run(folder):
    """What publish_weights reads of a scripts/train.py run: a briefly trained mlp."""
    model = zoo.create("mlp", hidden_units=(32,))
    model.compile(optimizer="adam")
    (x, y), _ = zoo.datasets.load_arrays("fashion_mnist")
    model.fit(x[:12000] / 255.0, y[:12000], epochs=1, batch_size=256, verbose=0)
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    command = "python scripts/train.py mlp --dataset fashion_mnist --model-arg hidden_units=(32,)"
    (folder / "config.json").write_text(json.dumps({
        "model": "mlp", "dataset": "fashion_mnist", "command": command,
        "model_config": model.get_config()}, default=list))
    (folder / "metrics.json").write_text(json.dumps({"epochs": 1}))


@pytest.mark.slow
def test_every_example_runs_and_the_acceptance_artifact_scores_within_half_a_point(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))
    _finished_run(tmp_path / "runs" / "mlp")
    python = blocks("python")
    for block in python[:2]:  # keras int8
        exec(compile(block, str(DOC), "exec"), {})
    printed = capsys.readouterr().out
    assert "Nothing to quantize" in printed and "['BatchNormalization', 'Conv2D']" in printed
    for script, argv in commands():
        assert cli.run_script(script, argv) == 0, (script, argv, capsys.readouterr().err)
        out = capsys.readouterr().out
        if script == "export":
            assert "top-1 agreement with the float model on 6000 validation examples" in out
        if script == "evaluate":  # the page's way to score an artifact
            scored = float(re.search(r"^accuracy: ([0-9.]+)$", out, re.M).group(1))
            assert "examples: 10000" in out and "input_dtype: uint8" in out, out
        if script == "bench":
            assert "float vs int8 per runtime" in out and "int8 features: avx512_vnni" in out
    exec(compile(python[2], str(DOC), "exec"), {})  # the published artifact, fetched

    # the acceptance command's artifact on the Fashion-MNIST test set, against the float model
    import onnxruntime

    _, (images, labels) = zoo.datasets.load_arrays("fashion_mnist")
    session = onnxruntime.InferenceSession("r20.int8.onnx")
    logits = np.concatenate([session.run(None, {"images": images[i:i + 1000]})[0]
                             for i in range(0, len(images), 1000)])
    int8_accuracy = (logits.argmax(1) == labels).mean()
    assert int8_accuracy == pytest.approx(scored, abs=5e-5)  # evaluate.py printed it (4 places)
    float_accuracy = zoo.weights.get_weights("resnet20.fashion_mnist").metrics["accuracy"]
    assert abs(int8_accuracy - float_accuracy) <= 0.005, (int8_accuracy, float_accuracy)
    spec = zoo.weights.WeightsSpec.read("published/mlp.fashion_mnist.json")
    assert spec.artifacts[0].metrics["validation_agreement"] >= 0.98
    _check_int8_artifacts(images[:500])


# largest |int8 - float| over the largest |float| logit, on 500 test images
RELATIVE_TOLERANCE = 0.1


def _check_int8_artifacts(raw):
    """The two artifacts the page writes: int8 tensors inside, logits close to keras's."""
    import onnx
    from onnx import numpy_helper

    from zoo.jobs import export as job
    from zoo.jobs import quantize as qjob

    graph = onnx.load("r20.int8.onnx").graph
    ops = {n.op_type for n in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv", "Gemm"} <= ops
    weights = [numpy_helper.to_array(t) for t in graph.initializer]
    kernels = [w for w in weights if w.ndim >= 2]  # 19 convolutions and the logits
    assert len(kernels) == 20 and all(w.dtype == np.int8 for w in kernels)
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8  # as float's

    litert = qjob.int8_tensors("mlp.int8.tflite", "litert")
    assert litert["int8_weights"] == 5 and litert["float_weight_ops"] == {}
    assert litert["tensor_dtypes"]["uint8"] == 1 and "FULLY_CONNECTED" in litert["ops"]

    for path, fmt, name in (("r20.int8.onnx", "onnx", "resnet20"),
                            ("mlp.int8.tflite", "litert", "mlp")):
        reference = zoo.create(name, weights="fashion_mnist").predict(
            raw.astype("float32") / 255.0, verbose=0)
        out = job.load_artifact(path, fmt)(raw)
        assert np.max(np.abs(out - reference)) <= RELATIVE_TOLERANCE * np.abs(reference).max()
        assert (out.argmax(1) == reference.argmax(1)).mean() >= 0.98, path
