"""`scripts/export.py RUN_DIR | NAME --format F --output PATH`: deployable inference artifacts.

Built on keras's own `model.export(path, format=..., input_signature=...)`:

| format | TensorFlow backend | JAX backend |
|---|---|---|
| `tf_saved_model` | tf.function trace | jax2tf |
| `onnx` | tf2onnx | jax2onnx |
| `litert` | TFLite converter | not in keras: use the TensorFlow backend |

The artifact holds the inference function only (`training=False`), with a
dynamic batch axis. Weights that carry preprocessing (an entry whose inputs are
uint8 pixels / 255, or a run directory trained on an image dataset of
`zoo.datasets`) give an artifact that takes the raw uint8 images and scales them
inside. Text classifiers take strings in a TensorFlow SavedModel; every other
format holds no string ops, so it takes token ids and the vocabulary is written
beside it (`PATH.vocabulary.json`). Generative models export one part
(`--part`): the VAE's decoder or encoder, a GAN's generator or discriminator.

After export the artifact is loaded by its own runtime (`tf.saved_model.load`,
ONNX Runtime, the LiteRT interpreter) and compared with keras on a few inputs;
a difference above 1e-4 (float32) fails the export and nothing is written.

One concept in one file (over 500 lines): the export job, from a run
directory or name to a checked artifact.
"""

import contextlib
import dataclasses
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from zoo import compat
from zoo.errors import UserValueError
from zoo.jobs import quantize as quantize_job
from zoo.jobs.job_args import add_backend_arg, add_model_arg
from zoo.utils import command_line, ownership
from zoo.utils.command_line import ArgumentParser
from zoo.utils.ownership import OwnedDirectory
from zoo.utils.tensorflow_logs import CONVERTER_NOISE, filtered_stderr

FORMATS = ("tf_saved_model", "onnx", "litert")
# what keras's model.export supports on each backend (keras 3.15); the zoo covers these two
BACKEND_FORMATS = {"tensorflow": FORMATS, "jax": ("tf_saved_model", "onnx")}
INSTALL = 'pip install "keras-zoo[export]"   (in a clone: pip install -e ".[export]")'
ATOL = 1e-4  # float32 parity of every artifact with keras

# the exporter keras calls for each (format, backend), and each format's runtime
_EXPORTERS = {
    ("onnx", "tensorflow"): ("tf2onnx", "onnx"),
    ("onnx", "jax"): ("jax2onnx", "onnx"),
}
_RUNTIMES = {"tf_saved_model": "tensorflow", "onnx": "onnxruntime", "litert": "ai_edge_litert"}


class ExportError(UserValueError):
    """Bad input or an unsupported request, raised before anything is written."""


# ---------------------------------------------------------------------- checks
def check_format(format, backend=None):
    """Raises `ExportError` for an unknown format or one keras cannot write on `backend`."""
    if format not in FORMATS:
        raise ExportError(f"`--format` must be one of {FORMATS}. Received: --format {format}")
    if backend is None:
        return
    if backend not in BACKEND_FORMATS:
        raise ExportError(
            f"Export runs on the tensorflow or jax backend (artifacts do not depend on the "
            f"backend that wrote them): use --backend tensorflow. Received: backend={backend!r}"
        )
    if format not in BACKEND_FORMATS[backend]:
        raise ExportError(
            f"keras cannot write {format} from the {backend} backend: use --backend tensorflow. "
            f"Received: --format {format}, backend={backend!r}"
        )


def check_dependencies(format, backend, runtime=True, exporter=True):
    """Raises `ExportError` (one line, with the install command) for a missing package:
    the exporter keras calls for `format` on `backend`, and the `runtime` that loads it."""
    needed = list(_EXPORTERS.get((format, backend), ())) if exporter else []
    if runtime:
        needed.append(_RUNTIMES[format])
    missing = [m for m in needed if not installed(m)]
    if missing:
        raise ExportError(
            f"{format} export from {backend} needs {', '.join(missing)}, not installed: "
            f"{INSTALL}"
        )


def installed(module):
    """True when `module` can be imported (looked up without importing it)."""
    return importlib.util.find_spec(module) is not None


def check_output(output, format, overwrite=False):
    """The output path as a Path; raises (writing nothing) unless the zoo may write there.

    A file artifact (onnx, litert) never replaces a directory, and replaces a file only
    with `overwrite` and when the zoo wrote that file (`zoo.utils.ownership`); a
    SavedModel folder replaces only a folder whose manifest lists everything in it.
    """
    path = Path(output)
    if format == "litert" and path.suffix != ".tflite":
        raise ExportError(
            f"A LiteRT artifact is a `.tflite` file (keras requires the suffix). "
            f"Received: --output {output}"
        )
    try:
        _check_owned_output(path, format, overwrite, output)
    except ownership.OwnershipError as err:
        raise ExportError(str(err)) from None
    return path


def _check_owned_output(path, format, overwrite, output):
    if format == "tf_saved_model":
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise ExportError(f"A SavedModel is a folder, and {path} is a file or a link: "
                              f"it is not replaced. Received: --output {output}")
        if path.exists():
            if not overwrite:
                raise ExportError(f"{path} exists: pass --overwrite to replace it. "
                                  f"Received: --output {output}")
            OwnedDirectory(path, (), what="SavedModel", flag="--output").check()
        ownership.check_writable_folder(path.parent, "--output", output)
    else:
        ownership.check_output_file(path, "--output", replace=overwrite)
    side = sidecar_path(path)
    if side.exists() or side.is_symlink():  # a token-id artifact's vocabulary goes with it
        ownership.check_output_file(side, "--output", replace=overwrite)


def sidecar_path(output):
    """Where the vocabulary of a token-id text artifact is written."""
    output = Path(output)
    return output.with_name(output.name + ".vocabulary.json")


# ---------------------------------------------------------------------- models
def kind(model):
    """What an artifact of `model` takes, as the model declares it: "parts" (a model exported
    one part at a time: its `export_parts()`), "text" (a text model: its `sequence_length`
    and `vectorizer`) or "images" (any other zoo model, whole)."""
    from zoo.training import ZooModel

    if not isinstance(model, ZooModel):
        raise ExportError(f"Export takes zoo models. Received: a {type(model).__name__}")
    if parts(model):
        return "parts"
    if hasattr(model, "sequence_length") and hasattr(model, "vectorizer"):
        return "text"
    return "images"


def parts(model):
    """{part: what it computes} for models exported one part at a time (the model's
    `export_parts()`); {} otherwise."""
    declared = getattr(model, "export_parts", None)
    return {name: p["computes"] for name, p in declared().items()} if declared else {}


def check_part(model, part):
    available = parts(model)
    name = type(model).__name__
    if available and part is None:
        listing = "; ".join(f"{p}: {d}" for p, d in available.items())
        raise ExportError(
            f"A {name} is exported one part at a time: pass --part {' or --part '.join(available)} "
            f"({listing}). Received: no --part"
        )
    if part is not None and part not in available:
        what = f"one of {sorted(available)}" if available else "omitted (the whole model exports)"
        raise ExportError(f"`--part` for a {name} must be {what}. Received: --part {part}")


@dataclasses.dataclass
class Inference:
    """What an artifact computes: a functional keras model and its one input.

    Attributes:
        model: functional `keras.Model`, the inference function (`training=False`).
        input_name, input_shape, input_dtype: the input (shape without batch).
        vocabulary: for token-id text artifacts, the sidecar content; else None.
        reference: `x -> numpy`, keras's `predict` of the same function on `x`.
        words: text models: the vocabulary (sample inputs are drawn from it).
        token_limit: token-id inputs: ids lie in [0, token_limit).
    """

    model: object
    input_name: str
    input_shape: tuple
    input_dtype: str
    vocabulary: dict = None
    reference: object = None
    words: list = None
    token_limit: int = None

    def input_signature(self):
        import keras

        return [keras.InputSpec(shape=(None,) + tuple(self.input_shape),
                                dtype=self.input_dtype, name=self.input_name)]

    def sample(self, n=4, seed=0):
        """`n` valid inputs, drawn with `seed`."""
        import numpy as np

        rng = np.random.default_rng(seed)
        shape = (n,) + tuple(self.input_shape)
        if self.input_dtype == "uint8":
            return rng.integers(0, 256, shape).astype("uint8")
        if self.input_dtype == "float32":
            draw = rng.standard_normal if self.input_name == "z" else rng.random
            return draw(shape).astype("float32")
        if self.input_dtype == "string":
            words = self.words[2:] or ["[UNK]"]
            return np.array([" ".join(rng.choice(words, 1 + i % 7)) for i in range(n)])
        # token ids: known words, then padding; no row without tokens
        ids = rng.integers(2, max(self.token_limit, 3), shape).astype(self.input_dtype)
        ids[:, shape[1] // 2 + 1:] = 0
        return ids

    def predict(self, x):
        return self.reference(x)


def raw_image_scale(preprocessing):
    """1/255 when the preprocessing text says uint8 pixels / 255 (the zoo's image datasets)."""
    text = (preprocessing or "").replace(" ", "")
    return 1.0 / 255.0 if "uint8" in text and "x/255" in text else None


def inference_model(model, part=None, raw_scale=None, text="ids"):
    """The inference function of `model` (or its `part`) as an `Inference`.

    This is the one place that decides what an artifact takes: raw uint8 images
    scaled by `raw_scale` inside (weights that carry preprocessing), float
    images, latent codes, strings (`text="strings"`) or token ids.

    Args:
        model: a zoo model.
        part: the part of a VAE ("decoder", "encoder") or GAN ("generator",
            "discriminator"); None for every other model.
        raw_scale: None: float inputs, as the model takes them; a number: the
            artifact takes uint8 images and multiplies them by it first.
        text: text classifiers: "strings" (a TextVectorization inside, TF
            only) or "ids" (token ids; the vocabulary goes beside).
    """
    import keras
    from keras import layers, ops

    what = kind(model)
    check_part(model, part)
    if model.compute_dtype != "float32":
        raise ExportError(
            "Export needs a float32 model (keras's exporters require it). "
            f"Received: dtype policy {model.dtype_policy.name}"
        )
    config = model.get_config()
    vocabulary = None

    def image_input(shape):
        if raw_scale is None:
            inp = keras.Input(shape, dtype="float32", name="images")
            return inp, inp
        inp = keras.Input(shape, dtype="uint8", name="images")
        return inp, layers.Rescaling(raw_scale, name="raw_pixels")(inp)

    if part is not None:
        if model.export_parts()[part]["input"] == "latent":
            inputs = x = keras.Input((model.latent_dim,), dtype="float32", name="z")
        else:
            inputs, x = image_input(tuple(config["input_shape"]))
        outputs = model.export_part(part, x)
    elif what == "text":
        if text not in ("strings", "ids"):
            raise UserValueError(f"`text` must be 'strings' or 'ids'. Received: text={text!r}")
        if text == "strings" and model.vectorizer is not None:
            inputs = keras.Input((), dtype="string", name="text")
        else:
            inputs = keras.Input((model.sequence_length,), dtype="int32", name="token_ids")
            if model.vectorizer is not None:
                vocabulary = text_sidecar(model)
        outputs = model(inputs, training=False)
    else:
        inputs, x = image_input(tuple(config["input_shape"]))
        outputs = model(x, training=False)
    if not keras.backend.is_keras_tensor(outputs):
        raise ExportError(
            f"Export takes models with one output tensor. Received: {type(model).__name__} "
            f"giving {type(outputs).__name__}"
        )
    wrapped = keras.Model(inputs, outputs, name=f"{model.name}_inference")
    spec = inputs
    inference = Inference(wrapped, spec.name, tuple(spec.shape[1:]),
                          keras.backend.standardize_dtype(spec.dtype), vocabulary)
    if what == "text":
        vec = model.vectorizer
        inference.words = [str(t) for t in vec.get_vocabulary()] if vec is not None else []
        inference.token_limit = len(inference.words) if vec is not None else model.vocabulary_size
    if inference.input_dtype == "string":
        # keras's predict takes no numpy strings; the text model's own predict does
        inference.reference = lambda x: model.predict(x, verbose=0)
    else:
        inference.reference = lambda x: ops.convert_to_numpy(
            wrapped.predict(x, batch_size=max(len(x), 1), verbose=0))
    return inference


def text_sidecar(model):
    """What a token-id text artifact needs beside it: the vocabulary and how to tokenize."""
    vec = model.vectorizer.get_config()
    return {
        "input": "token_ids",
        "sequence_length": model.sequence_length,
        "tokens": [str(t) for t in model.vectorizer.get_vocabulary()],
        "tokens_note": "token id i is tokens[i]: 0 is padding, 1 is [UNK] (out of vocabulary); "
                       "pad rows with 0 to sequence_length, truncate longer ones",
        "standardize": vec.get("standardize"),
        "split": vec.get("split"),
        "ngrams": vec.get("ngrams"),
    }


@contextlib.contextmanager
def unrolled_recurrence(model):
    """Unrolls a text model's RNN layers while they are traced.

    keras's TensorFlow RNN loop stores its steps in a TensorList, which the
    TFLite converter keeps as Select-TF ("Flex") ops that the LiteRT
    interpreter lacks; unrolled (the sequence length is fixed) it needs only
    builtin ops. `unroll` is read at call time, so it is restored after.
    """
    import keras

    loops = []
    for layer in getattr(model, "recurrent", ()):
        if isinstance(layer, keras.layers.Bidirectional):
            loops += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, keras.layers.RNN):
            loops.append(layer)
    before = [loop.unroll for loop in loops]
    for loop in loops:
        loop.unroll = True
    try:
        yield
    finally:
        for loop, value in zip(loops, before):
            loop.unroll = value


# ---------------------------------------------------------------------- runtimes
class Runner:
    """An artifact loaded by its own runtime; `runner(x)` gives the output as numpy.

    `threads`: intra-op threads of ONNX Runtime and LiteRT (None: each
    runtime's default); a SavedModel runs on TensorFlow's own thread pool.
    ONNX and LiteRT runners also name what the artifact takes: `input_dtype`
    ("uint8", "float32", "int32") and `input_shape` (without the batch axis).
    """

    def __init__(self, path, format, threads=None):
        check_format(format)
        self.path, self.format = str(path), format
        if format == "tf_saved_model":
            import tensorflow as tf

            self._tf = tf
            with filtered_stderr(CONVERTER_NOISE):  # kept: its variables live here
                self._artifact = tf.saved_model.load(self.path)
            self._serve = self._artifact.serve
        elif format == "onnx":
            import onnxruntime

            options = onnxruntime.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            self._session = onnxruntime.InferenceSession(
                self.path, options, providers=["CPUExecutionProvider"])
            self.input_name = self._session.get_inputs()[0].name
            spec = self._session.get_inputs()[0]
            kind = spec.type[len("tensor("):-1]  # "tensor(uint8)"
            self.input_dtype = {"float": "float32", "double": "float64"}.get(kind, kind)
            self.input_shape = tuple(d if isinstance(d, int) else None for d in spec.shape[1:])
        else:
            from ai_edge_litert.interpreter import Interpreter

            with filtered_stderr(CONVERTER_NOISE):
                self._interpreter = Interpreter(model_path=self.path, num_threads=threads)
            self._input = self._interpreter.get_input_details()[0]
            self._output = self._interpreter.get_output_details()[0]
            self._resized_to = None
            self.input_dtype = str(self._input["dtype"].__name__)
            self.input_shape = tuple(int(d) for d in self._input["shape"][1:])

    def __call__(self, x):
        if self.format == "tf_saved_model":
            return self._serve(self._tf.constant(x)).numpy()
        if self.format == "onnx":
            return self._session.run(None, {self.input_name: x})[0]
        interpreter = self._interpreter
        if self._resized_to != x.shape:  # the batch axis is dynamic: resize once per shape
            with filtered_stderr(CONVERTER_NOISE):  # the XNNPACK notice, once per shape
                interpreter.resize_tensor_input(self._input["index"], x.shape)
                interpreter.allocate_tensors()
            self._resized_to = x.shape
        interpreter.set_tensor(self._input["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(self._output["index"]).copy()


def load_artifact(path, format, threads=None):
    """The artifact at `path` loaded by its runtime, as a callable `x -> numpy`."""
    return Runner(path, format, threads)


def parity(runner, inference, n=4, seed=0):
    """Largest absolute difference between the artifact and keras on `n` sample inputs."""
    import numpy as np

    x = inference.sample(n, seed)
    return float(np.max(np.abs(runner(x) - inference.predict(x))))


# ---------------------------------------------------------------------- export
def export(model, output, format, part=None, raw_scale=None, overwrite=False, check=True,
           text=None, quantize=None):
    """Writes the inference artifact of `model` (or its `part`) to `output`.

    The artifact goes to a temporary path beside `output`, is checked against
    keras when `check` (largest absolute difference <= 1e-4 on 4 inputs), and
    only then moved into place, so a failure leaves nothing behind.

    Args:
        model: a zoo model (classifier, text classifier, autoencoder, VAE, GAN).
        output: file (onnx, `.tflite`) or folder (tf_saved_model) to write.
        format: "tf_saved_model", "onnx" or "litert".
        part: VAE "decoder"/"encoder", GAN "generator"/"discriminator".
        raw_scale: see `inference_model`: uint8 images in, scaled by it.
        overwrite: replace an existing `output`.
        check: load the artifact with its runtime and compare with keras.
        text: text classifiers: None picks strings for a TensorFlow SavedModel
            and token ids otherwise.
        quantize: None, or a `zoo.jobs.quantize.Int8Request`: the artifact
            written is then the int8 one, checked on the validation split
            (its report under "int8").

    Returns:
        A dict: output, format, backend, input (name, shape, dtype), and
        `max_abs_diff` (None without `check`), `vocabulary` (the sidecar, or None).
    """
    import keras

    backend = keras.backend.backend()
    check_format(format, backend)
    path = check_output(output, format, overwrite)
    check_dependencies(format, backend, runtime=check)
    if text is None:
        text = "strings" if (format, backend) == ("tf_saved_model", "tensorflow") else "ids"
    inference = inference_model(model, part, raw_scale, text)
    if quantize is not None:
        if not check:
            raise ExportError("An int8 artifact is always checked against the float one: "
                              "drop --no-check. Received: --no-check --quantize")
        quantize.check(model, inference, part)
    report = {"output": str(path), "format": format, "backend": backend,
              "input": {"name": inference.input_name,
                        "shape": [None] + list(inference.input_shape),
                        "dtype": inference.input_dtype},
              "max_abs_diff": None, "vocabulary": None}

    folder = tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        tmp = Path(folder) / path.name
        write_artifact(model, inference, tmp, format)
        if check:
            diff = parity(load_artifact(tmp, format), inference)
            if not diff <= ATOL:
                raise ExportError(
                    f"The {format} artifact differs from keras by {diff:.3g} (> {ATOL}) on "
                    f"sample inputs; nothing written. Received: backend={backend!r}"
                )
            report["max_abs_diff"] = diff
        if quantize is not None:  # the float artifact, checked, is quantized in its place
            int8 = Path(folder) / f"int8.{path.name}"
            report["int8"] = quantize.apply(
                tmp, int8, write=lambda p, **options: write_artifact(
                    model, inference, p, format, **options),
                load=lambda p: load_artifact(p, format))
            tmp = int8
        side = sidecar_path(path)
        if format == "tf_saved_model":  # what the folder holds is the zoo's own
            OwnedDirectory(tmp, [p.name + ("/" if p.is_dir() else "") for p in tmp.iterdir()],
                           what="SavedModel").record()
        with ownership.replacing_outputs():  # one writer from this check to the record
            check_output(path, format, overwrite)  # again: the disk may have changed
            if inference.vocabulary is not None:
                tmp_side = sidecar_path(tmp)
                tmp_side.write_text(json.dumps(inference.vocabulary, indent=1) + "\n")
                _replace(tmp_side, side)
                ownership.record_output_file(side)
                report["vocabulary"] = str(side)
            elif side.exists():  # replacing a token-id artifact: its vocabulary (the zoo's)
                side.unlink()
            _replace(tmp, path)
            if format != "tf_saved_model":
                ownership.record_output_file(path)
    except Exception as err:
        if format == "onnx" and backend == "jax" and "pooling size" in str(err):
            raise ExportError(
                "jax2onnx writes max pooling as a MaxPool over (N, H, W, C), which ONNX Runtime "
                "cannot run: export this model to onnx with --backend tensorflow. "
                f"Received: backend={backend!r}"
            ) from None
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def write_artifact(model, inference, path, format, **options):
    """keras's `export` of `inference` (from `inference_model(model, ...)`) to `path`;
    `options` go to the exporter (LiteRT: the TFLite converter's settings)."""
    unroll = unrolled_recurrence(model) if format == "litert" else contextlib.nullcontext()
    # grouped convolutions (ResNeXt, RegNet) as plain graph ops the converters take
    with unroll, _quiet_exporters(), compat.graph_grouped_convolutions():
        inference.model.export(str(path), format=format, verbose=False,
                               input_signature=inference.input_signature(), **options)


def _replace(tmp, path):
    """Moves `tmp` to `path`, replacing what is there: a file or a SavedModel folder that
    `check_output` found to be the zoo's."""
    if path.is_dir() and not path.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
        os.replace(path, old / path.name)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if path.is_symlink() or path.exists():
            path.unlink()
        os.replace(tmp, path)


@contextlib.contextmanager
def _quiet_exporters():
    import logging
    import warnings

    # tf2onnx logs every rewrite at INFO, keras's numpy-2 patch warns, TensorFlow's
    # converters log each pass from C++; none of it is actionable
    loggers = [logging.getLogger(n) for n in ("tf2onnx", "jax2onnx")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), filtered_stderr(CONVERTER_NOISE):
            warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


# ---------------------------------------------------------------------- the script
def resolve_source(source, weights=None, model_args=None):
    """(model, raw_scale, description) for a run directory, a `.keras` file or a name."""
    import keras

    import zoo  # also registers the families keras.saving needs

    path = Path(source)
    looks_like_path = path.exists() or os.sep in source or source.endswith(".keras")
    if looks_like_path:
        if weights is not None or model_args:
            raise ExportError(
                "`--weights` and `--model-arg` go with a registered model name, not a saved "
                f"model. Received: {source}"
            )
        config = {}
        if path.is_dir():
            if (path / "config.json").is_file():
                config = json.loads((path / "config.json").read_text())
            path = path / "model.keras"
            if not path.is_file():
                raise ExportError(f"The run directory has no model.keras. Received: {source}")
        elif not path.is_file():
            raise ExportError(f"No run directory or .keras file there. Received: {source}")
        from zoo.weights.loading import check_finite_weights

        check_finite_weights(path)
        model = keras.saving.load_model(path, compile=False)
        return model, _dataset_scale(config.get("dataset")), f"{path}"
    model = zoo.create(source, weights=weights, **(model_args or {}))
    scale = None
    if weights is not None:
        spec = _weights_spec(source, weights)
        scale = raw_image_scale(spec.preprocessing) if spec else None
    return model, scale, f"{source}" + (f" with weights {weights}" if weights else "")


def _dataset_scale(dataset):
    """The pixel scale zoo.datasets applies to an image dataset (its pipeline: x / 255)."""
    import zoo

    if dataset in zoo.datasets.list_datasets() and zoo.datasets.info(dataset)["kind"] == "image":
        return 1.0 / 255.0
    return None


def _weights_spec(name, weights):
    import zoo

    for spec in zoo.list_weights(f"{name}.*"):
        if weights in (spec.name, spec.tag):
            return spec
    return None  # a local .weights.h5 path: no recorded preprocessing


def build_parser():
    p = ArgumentParser(prog="export.py", description="Export a zoo model for deployment "
                       "(keras model.export), checked against keras in its own runtime.")
    p.add_argument("model", help="run directory, .keras file, or registered model name")
    p.add_argument("--weights", default=None, help="published weights tag or .weights.h5 path")
    p.add_argument("--format", required=True, help=f"one of {', '.join(FORMATS)}")
    p.add_argument("--output", required=True,
                   help="file (onnx, .tflite) or folder (tf_saved_model) to write")
    p.add_argument("--part", default=None,
                   help="VAE: decoder or encoder; GAN: generator or discriminator")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--no-check", action="store_true",
                   help="skip loading the artifact in its runtime and comparing with keras")
    add_model_arg(p, help="constructor argument for a registered name (repeatable)")
    add_backend_arg(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quantize", default=None, metavar="MODE",
                   help="int8: an int8 artifact (onnx, litert; docs/quantization.md)")
    p.add_argument("--calibration", default=None, metavar="DATASET[:N]",
                   help="--quantize: N training examples for the activation ranges (default "
                   f"{quantize_job.DEFAULT_EXAMPLES}); the validation split checks the artifact")
    p.add_argument("--min-agreement", type=float, default=quantize_job.MIN_AGREEMENT,
                   help="--quantize: refuse an int8 artifact whose top-1 agreement with the "
                   "float model on the validation split is below this")
    p.add_argument("--validation-examples", type=int, default=None, metavar="N",
                   help="--quantize: check on the first N validation examples (default: all)")
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        # what needs no keras first: a bad request fails at once and writes nothing
        check_format(args.format)
        int8 = quantize_job.request(args.quantize, args.format, args.calibration,
                                    args.min_agreement, args.validation_examples)
        check_output(args.output, args.format, args.overwrite)
        from zoo.jobs.job_args import parse_model_args

        model_args = parse_model_args(args.model_arg)
        import keras

        check_format(args.format, keras.backend.backend())
        check_dependencies(args.format, keras.backend.backend(), runtime=not args.no_check)
        model, scale, described = resolve_source(args.model, args.weights, model_args)
        check_part(model, args.part)
        report = export(model, args.output, args.format, part=args.part, raw_scale=scale,
                        overwrite=args.overwrite, check=not args.no_check, quantize=int8)
    except command_line.USER_ERRORS as err:  # a read-only or full folder included: one line
        return command_line.report(err)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    inp = report["input"]
    part = f" (part {args.part})" if args.part else ""
    print(f"exported {described}{part} -> {report['output']} "
          f"({args.format}, from {report['backend']})")
    print(f"input {inp['name']}: {inp['dtype']} {tuple(inp['shape'])}"
          + ("  (raw pixels, scaled inside)" if inp["dtype"] == "uint8" else ""))
    if report["vocabulary"]:
        print(f"vocabulary (token ids in): {report['vocabulary']}")
    if report["max_abs_diff"] is not None:
        print(f"checked in its runtime against keras: max |diff| {report['max_abs_diff']:.3g} "
              f"(<= {ATOL})")
    if report.get("int8"):
        print(quantize_job.summary(report["int8"]))
    return 0
