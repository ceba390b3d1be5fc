"""`scripts/export.py ... --quantize int8 --calibration DATASET[:N]`: each runtime's int8 path
on a small model (outputs against the float model, int8 tensors in the artifact), the
validation check, and bad input. ONNX Runtime's static path runs in test_quantization_docs
(the acceptance command, resnet20)."""

import json
import os
import shutil

import numpy as np
import pytest

import keras
import zoo
from zoo.jobs import export as job
from zoo.jobs import quantize as qjob
from zoo.utils import ownership
from zoo.models.zoo_classifier import ZooClassifier

# largest |int8 - float| over the largest |float| output on the validation images: 8-bit
# activations and weights of a small random network lose a few percent
RELATIVE_TOLERANCE = 0.1
TINY_MLP = ["mlp", "--model-arg", "hidden_units=(32,16)"]


def _export(capsys, argv, tmp_path):
    """Runs the export job in-process with --json; returns (exit status, report or stderr)."""
    code = job.main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else captured.err)


def _float_reference(argv, inference_input):
    """keras's outputs of the exported function on `inference_input`."""
    model = zoo.create(argv[0], **_model_args(argv))
    return model.predict(inference_input, verbose=0)


def _model_args(argv):
    from zoo.jobs.job_args import parse_model_args

    return parse_model_args([argv[i + 1] for i, a in enumerate(argv) if a == "--model-arg"])


def _validation_images(n=64):
    (x, _), _ = zoo.datasets.load_arrays("fashion_mnist")
    _, validation = zoo.datasets.split_indices(len(x), qjob.VALIDATION_SPLIT,
                                               qjob.VALIDATION_SEED)
    return x[validation[:n]].astype("float32") / 255.0


def _close_to_float(int8_out, float_out):
    scale = np.max(np.abs(float_out))
    assert np.max(np.abs(int8_out - float_out)) <= RELATIVE_TOLERANCE * scale
    assert (int8_out.argmax(1) == float_out.argmax(1)).mean() >= 0.9


@pytest.fixture(autouse=True)
def _same_weights():
    # the model the export builds and the reference below get the same initial weights
    keras.utils.set_random_seed(0)


def _run_same_seed(fn, *args):
    keras.utils.set_random_seed(0)
    return fn(*args)


# static ONNX (QDQ): the acceptance command on resnet20, tests/quantization/test_quantization_docs
@pytest.mark.jax
def test_onnx_dynamic_mlp_is_int8_and_close_to_float(tmp_path, capsys):
    out = tmp_path / "m.int8.onnx"
    argv = [*TINY_MLP, "--format", "onnx", "--quantize", "int8", "--calibration",
            "fashion_mnist:32", "--min-agreement", "0.9", "--validation-examples", "1000",
            "--output", str(out)]
    code, report = _export(capsys, argv, tmp_path)
    assert code == 0, report
    assert report["int8"]["method"] == "dynamic" and report["int8"]["int8_weights"] == 3

    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(out)).graph
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= {n.op_type for n in graph.node}
    kernels = [numpy_helper.to_array(t) for t in graph.initializer if len(t.dims) == 2]
    assert len(kernels) == 3 and all(k.dtype == np.int8 for k in kernels)
    x = _validation_images()
    _close_to_float(job.load_artifact(out, "onnx")(x), _run_same_seed(_float_reference,
                                                                      TINY_MLP, x))


def test_litert_full_integer_conv_net_keeps_the_raw_uint8_input(tmp_path):
    # one basic block per stage: 7 convolutions (the shortcut pads), as resnet20 builds them
    model = zoo.create("resnet20", filters=(4, 8, 8), depths=(1, 1, 1), input_shape=(28, 28, 1))
    out = tmp_path / "r.int8.tflite"
    request = qjob.request("int8", "litert", "fashion_mnist:64", min_agreement=0.9,
                           validation_examples=1000)
    report = job.export(model, out, "litert", raw_scale=1 / 255, quantize=request)
    assert report["input"]["dtype"] == "uint8"
    assert report["int8"]["method"] == "static" and report["int8"]["agreement"] >= 0.9

    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(out))
    assert interpreter.get_input_details()[0]["dtype"] == np.uint8  # as the float artifact
    assert interpreter.get_output_details()[0]["dtype"] == np.float32
    inspected = qjob.int8_tensors(out, "litert")  # the flatbuffer's tensors and ops
    # 7 convolution kernels and the logits' kernel; every activation int8 but the raw
    # input (uint8), its cast to float (quantized next) and the dequantized logits
    assert inspected["int8_weights"] == 8 and inspected["float_weight_ops"] == {}
    assert inspected["tensor_dtypes"]["float32"] == 2 and inspected["tensor_dtypes"]["uint8"] == 1
    assert {"CAST", "QUANTIZE", "CONV_2D", "FULLY_CONNECTED", "DEQUANTIZE"} <= set(
        inspected["ops"])
    kernels = [d for d in interpreter.get_tensor_details()
               if d["quantization_parameters"]["scales"].size > 1 and len(d["shape"]) >= 2]
    assert len(kernels) == 8 and all(d["dtype"] == np.int8 for d in kernels)

    raw = (_validation_images() * 255).astype("uint8")
    int8_out = job.load_artifact(out, "litert")(raw)
    _close_to_float(int8_out, model.predict(raw.astype("float32") / 255.0, verbose=0))


class _NoWeights(ZooClassifier):
    """A classifier without one weight: nothing for any quantizer."""

    def __init__(self, input_shape=(28, 28, 1), num_classes=10, **kwargs):
        super().__init__(input_shape=input_shape, num_classes=num_classes, **kwargs)
        self.flatten = keras.layers.Flatten()
        self.build_now()

    def call(self, inputs, training=False):
        return self.flatten(inputs)[:, :10]

    def get_config(self):
        return {**super().get_config(), "input_shape": self._zoo_input_shape}


def test_a_model_with_nothing_to_quantize_is_refused_before_any_work(tmp_path):
    request = qjob.request("int8", "onnx", "fashion_mnist:16", validation_examples=100)
    with pytest.raises(qjob.QuantizeError, match=r"^Nothing to quantize: _NoWeights 'no_weights' "
                                                 r"holds no weights \(its layers: .*Flatten"):
        job.export(_NoWeights(name="no_weights"), tmp_path / "n.onnx", "onnx", quantize=request)
    assert os.listdir(tmp_path) == []


def test_an_artifact_with_no_int8_weight_is_refused_naming_its_ops(tmp_path, monkeypatch):
    # a quantizer that leaves every weight float (as ORT does with ops it cannot quantize)
    monkeypatch.setattr(qjob, "quantize_onnx", lambda src, out, *a: shutil.copyfile(src, out))
    request = qjob.request("int8", "onnx", "fashion_mnist:16", validation_examples=100)
    model = zoo.create("mlp", hidden_units=(8,))
    with pytest.raises(qjob.QuantizeError, match=r"^Nothing was quantized: no onnx op of this "
                                                 r"model takes int8 weights \(its ops: .*MatMul"):
        job.export(model, tmp_path / "m.onnx", "onnx", quantize=request)
    assert os.listdir(tmp_path) == []


def test_an_agreement_below_the_threshold_is_refused_with_the_figure(tmp_path, capsys,
                                                                     monkeypatch):
    real = qjob.compare

    def worse(*args, **kwargs):
        return {**real(*args, **kwargs), "agreement": 0.9712}

    monkeypatch.setattr(qjob, "compare", worse)
    monkeypatch.setenv("ZOO_HOME", str(tmp_path.parent / f"{tmp_path.name}-home"))
    (tmp_path / "m.int8.onnx").write_bytes(b"keep")
    ownership.record_output_file(tmp_path / "m.int8.onnx")  # an earlier export's: replaceable
    argv = [*TINY_MLP, "--format", "onnx", "--quantize", "int8", "--calibration",
            "fashion_mnist:16", "--validation-examples", "500", "--output",
            str(tmp_path / "m.int8.onnx"), "--overwrite"]
    code, err = _export(capsys, argv, tmp_path)
    assert code == 2
    assert err.strip() == (
        "error: The int8 onnx artifact agrees with the float model on 0.9712 of the 500 "
        "validation examples (< --min-agreement 0.98); nothing written. Received: "
        "--calibration fashion_mnist:16")
    assert (tmp_path / "m.int8.onnx").read_bytes() == b"keep"
    assert sorted(os.listdir(tmp_path)) == ["m.int8.onnx"]


@pytest.mark.parametrize("argv,match", [
    (["--format", "onnx", "--quantize", "int3", "--calibration", "fashion_mnist"],
     "Unknown quantization mode: use one of ('int8',). Received: --quantize int3"),
    (["--format", "tf_saved_model", "--quantize", "int8", "--calibration", "fashion_mnist"],
     "A tf_saved_model artifact cannot carry int8 quantization here: use --format onnx or "
     "--format litert. Received: --format tf_saved_model --quantize int8"),
    (["--format", "onnx", "--quantize", "int8", "--calibration", "fashion_mnist:test:64"],
     "the test split is kept for the final report. Received: --calibration "
     "fashion_mnist:test:64"),
    (["--format", "onnx", "--quantize", "int8", "--calibration", "fashion_mnist:validation"],
     "the validation split is kept for the agreement check"),
    (["--format", "onnx", "--quantize", "int8"], "--quantize int8 needs --calibration"),
    (["--format", "onnx", "--calibration", "fashion_mnist"], "goes with --quantize int8"),
    (["--format", "onnx", "--quantize", "int8", "--calibration", "fashion_mnist:0"],
     "N an int >= 1. Received: --calibration fashion_mnist:0"),
    (["--format", "onnx", "--quantize", "int8", "--calibration", "imagenet:64"],
     "Unknown calibration dataset"),
    (["--format", "onnx", "--quantize", "int8", "--calibration", "fashion_mnist",
      "--min-agreement", "1.5"], "`--min-agreement` must be in [0, 1]"),
    (["--format", "onnx", "--quantize", "int8", "--calibration", "fashion_mnist", "--no-check"],
     "always checked against the float one: drop --no-check"),
    (["--format", "onnx", "--quantize", "int8", "--calibration", "fashion_mnist",
      "--validation-examples", "0"], "`--validation-examples` must be an int >= 1"),
    (["--model-arg", "input_shape=(32,32,3)", "--format", "onnx", "--quantize", "int8",
      "--calibration", "fashion_mnist:64"],
     "The calibration examples do not fit the model: fashion_mnist images are (28, 28, 1), the "
     "model takes float32 (32, 32, 3)"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, match):
    code = job.main(["mlp", *argv, "--output", str(tmp_path / "m.onnx")])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert match in lines[0], lines[0]
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("format", ["onnx", "litert"])
def test_evaluate_scores_an_artifact_on_the_test_split_as_keras_scores_the_model(
        tmp_path, capsys, format):
    from zoo.jobs import evaluate

    model = zoo.create("mlp", hidden_units=(16,))
    (x, y), (test_x, test_y) = zoo.datasets.load_arrays("fashion_mnist")
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x[:2000] / 255.0, y[:2000], epochs=2, batch_size=100, verbose=0)
    out = tmp_path / ("m.onnx" if format == "onnx" else "m.tflite")
    job.export(model, out, format, raw_scale=1 / 255)  # takes raw uint8 images
    assert evaluate.main([str(out), "--dataset", "fashion_mnist", "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    expected = (model.predict(test_x / 255.0, verbose=0).argmax(1) == test_y).mean()
    assert scored["examples"] == 10000 and scored["input_dtype"] == "uint8"
    assert scored["accuracy"] == pytest.approx(expected, abs=2e-4), scored  # float rounding
    assert scored["accuracy"] > 0.6  # a trained model, not chance (0.1)


@pytest.mark.parametrize("argv,match", [
    (["missing.onnx"], "No artifact file there. Received: model="),
    (["m.onnx", "--weights", "fashion_mnist"], "An exported artifact holds its weights"),
    (["m.onnx", "--dataset", "movie_reviews"], "Artifacts are scored on image datasets"),
    (["m.onnx", "--dataset", "cifar10"],
     "The artifact takes float32 (28, 28, 1), cifar10 images are uint8 (32, 32, 3)"),
])
def test_evaluating_an_artifact_refuses_bad_input_in_one_line(tmp_path, capsys, monkeypatch,
                                                              argv, match):
    from zoo.jobs import evaluate

    monkeypatch.chdir(tmp_path)
    job.export(zoo.create("mlp", hidden_units=(8,)), tmp_path / "m.onnx", "onnx")
    assert evaluate.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], lines
