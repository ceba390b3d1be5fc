"""Each artifact, loaded by its own runtime, against keras's `predict` on the same inputs.

Runs on TensorFlow (tf_saved_model, onnx, litert) and, marked `jax`, on JAX
(tf_saved_model, onnx). Every model is exported once per format (module fixture).
"""

import json

import keras
import numpy as np
import pytest
from export_testlib import (
    TEXTS,
    images,
    latents,
    randomize_batch_norm,
    vectorizer_from_sidecar,
)

import zoo
from zoo.jobs import export as job

pytestmark = pytest.mark.jax

BACKEND = keras.backend.backend()
FORMATS_HERE = job.BACKEND_FORMATS.get(BACKEND, ())
SUFFIX = {"tf_saved_model": "", "onnx": ".onnx", "litert": ".tflite"}
ATOL = 1e-4  # float32; no quantised option is exported
RAW = 1.0 / 255.0


def _mlp():
    model = zoo.create("mlp", hidden_units=(16, 8))
    x = images((28, 28, 1))
    return dict(model=model, raw_scale=RAW, x=x, reference=model.predict(x / 255.0, verbose=0))


def _resnet20():
    # the shipped Fashion-MNIST weights, raw uint8 pixels in
    model = zoo.create("resnet20", weights="fashion_mnist")
    x = images((28, 28, 1))
    return dict(model=model, raw_scale=RAW, x=x, reference=model.predict(x / 255.0, verbose=0))


def _densenet():
    model = randomize_batch_norm(zoo.create(
        "densenet_bc_100", depths=(2, 2, 2), width_multiplier=0.25, input_shape=(16, 16, 3),
        num_classes=4))
    x = images((16, 16, 3)).astype("float32") / 255.0  # float images in: the float path
    return dict(model=model, raw_scale=None, x=x, reference=model.predict(x, verbose=0))


def _googlenet():
    model = randomize_batch_norm(zoo.create(
        "googlenet", width_multiplier=0.125, input_shape=(32, 32, 3), num_classes=5))
    x = images((32, 32, 3))
    return dict(model=model, raw_scale=RAW, x=x, reference=model.predict(x / 255.0, verbose=0))


def _swin():
    # window attention (shifted: the rolled map and its mask; padded windows), patch merging,
    # exact GELU: every Swin layer kind, V2's cosine attention and position-bias MLP
    model = zoo.create("swin_v2_t", input_shape=(16, 16, 3), num_classes=4, patch_size=2,
                       window_size=3, filters=(8, 16), num_heads=(2, 2), depths=(2, 1))
    x = images((16, 16, 3)).astype("float32") / 255.0
    return dict(model=model, raw_scale=None, x=x, reference=model.predict(x, verbose=0))


def _vit():
    # a reduced DeiT with its distillation token and two heads: attention
    # (keras.ops.dot_product_attention), token and position embeddings, token pooling
    model = zoo.create("deit_tiny_distilled_patch16_224", input_shape=(16, 16, 3),
                       num_classes=4, patch_size=8, hidden_dim=16, num_heads=2, depth=1)
    x = images((16, 16, 3)).astype("float32") / 255.0
    return dict(model=model, raw_scale=None, x=x, reference=model.predict(x, verbose=0))


def _mobile(name, **kwargs):
    """A small MobileNetV3 (hard-swish, hard-sigmoid squeeze-excitation, depthwise) or
    EfficientNetV2 (fused and plain MBConv, SiLU, stochastic depth off in inference)."""
    def build():
        model = randomize_batch_norm(zoo.create(
            name, width_multiplier=0.25, input_shape=(32, 32, 3), num_classes=5, **kwargs))
        x = images((32, 32, 3))
        return dict(model=model, raw_scale=RAW, x=x,
                    reference=model.predict(x / 255.0, verbose=0))
    return build


def _lstm():
    model = zoo.create("lstm", vocabulary_size=40, sequence_length=8, embedding_dim=8, units=8)
    model.adapt(TEXTS)
    return dict(model=model, raw_scale=None, x=TEXTS, reference=model.predict(TEXTS, verbose=0))


def _vae_decoder():
    model = zoo.create("vae", input_shape=(8, 8, 1), latent_dim=4, filters=(4, 8))
    z = latents(4)
    return dict(model=model, part="decoder", raw_scale=None, x=z, reference=model.decode(z))


def _dcgan_generator():
    model = randomize_batch_norm(
        zoo.create("dcgan", input_shape=(8, 8, 1), latent_dim=4, filters=(4, 8)))
    z = latents(4)
    return dict(model=model, part="generator", raw_scale=None, x=z,
                reference=model.generator.predict(z, verbose=0))


CASES = {
    "mlp": _mlp,
    "resnet20": _resnet20,
    "densenet_bc_100": _densenet,
    "googlenet": _googlenet,
    "swin_v2_t": _swin,
    "vit": _vit,
    "mobilenet_v3_small": _mobile("mobilenet_v3_small"),
    "efficientnet_v2_s": _mobile("efficientnet_v2_s", depths=(2, 2, 1, 2, 1, 1),
                                 last_filters=256),
    "lstm": _lstm,
    "vae_decoder": _vae_decoder,
    "dcgan_generator": _dcgan_generator,
}
# On JAX every op compiles (model creation, predict, jax2tf, XLA in the SavedModel): the
# make-test budget keeps one model per kind of layer there (the DCGAN generator stands for
# the VAE decoder: transposed convolutions to images). The others passed from JAX when run
# (SavedModel: densenet_bc_100 24 s, googlenet 154 s, VAE decoder 19 s on 2 busy cores; ONNX:
# densenet_bc_100, VAE decoder); jax2onnx cannot write max pooling that ONNX Runtime runs
# (googlenet: refused, tested below on a small VGG).
JAX_CASES = ("mlp", "resnet20", "lstm", "dcgan_generator")
PARAMS = [(c, f) for c in CASES for f in FORMATS_HERE if BACKEND != "jax" or c in JAX_CASES]


class _Artifacts:
    """`artifacts(case, format)` -> (case dict, report, runner); each built and exported once."""

    def __init__(self, folder):
        self.folder, self.cases, self.exported = folder, {}, {}

    def case(self, name):
        if name not in self.cases:
            keras.utils.set_random_seed(0)
            self.cases[name] = CASES[name]()
        return self.cases[name]

    def __call__(self, name, fmt):
        c = self.case(name)
        if (name, fmt) not in self.exported:
            out = self.folder / f"{name}{SUFFIX[fmt]}"
            report = job.export(c["model"], out, fmt, part=c.get("part"),
                                raw_scale=c["raw_scale"], check=False)
            self.exported[name, fmt] = report, job.load_artifact(out, fmt)
        return (c,) + self.exported[name, fmt]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    return _Artifacts(tmp_path_factory.mktemp("artifacts"))


def _artifact_input(case, report):
    """What the artifact takes for case `c`: token ids from the vocabulary file for text."""
    if report["input"]["name"] != "token_ids":
        return case["x"]
    sidecar = json.loads(open(report["vocabulary"]).read())
    return keras.ops.convert_to_numpy(vectorizer_from_sidecar(sidecar)(case["x"])).astype("int32")


@pytest.mark.parametrize("case,fmt", PARAMS)
def test_artifact_matches_keras_predict(artifacts, case, fmt):
    c, report, runner = artifacts(case, fmt)
    x = _artifact_input(c, report)
    y = runner(x)
    assert y.shape == c["reference"].shape
    np.testing.assert_allclose(y, c["reference"], rtol=0, atol=ATOL)


@pytest.mark.parametrize("fmt", FORMATS_HERE)
def test_the_batch_axis_is_dynamic(artifacts, fmt):
    c, report, runner = artifacts("mlp", fmt)
    assert report["input"]["shape"][0] is None
    for n in (1, 5, 3):  # LiteRT resizes its input tensor, SavedModel/ONNX take any batch
        np.testing.assert_allclose(runner(c["x"][:n]), c["reference"][:n], rtol=0, atol=ATOL)


@pytest.mark.parametrize("case,fmt", [p for p in PARAMS if p[0] in ("mlp", "resnet20")])
def test_weights_with_preprocessing_take_raw_uint8(artifacts, case, fmt):
    _, report, _ = artifacts(case, fmt)
    assert report["input"] == {"name": "images", "shape": [None, 28, 28, 1], "dtype": "uint8"}


@pytest.mark.parametrize("fmt", FORMATS_HERE)
def test_lstm_takes_strings_where_the_format_holds_the_vectorizer(artifacts, fmt):
    c, report, _ = artifacts("lstm", fmt)
    strings = BACKEND == "tensorflow" and fmt == "tf_saved_model"
    if strings:
        assert report["input"]["dtype"] == "string" and report["vocabulary"] is None
        return
    assert report["input"] == {"name": "token_ids", "shape": [None, 8], "dtype": "int32"}
    sidecar = json.loads(open(report["vocabulary"]).read())
    assert sidecar["tokens"] == c["model"].vectorizer.get_vocabulary()
    assert sidecar["sequence_length"] == 8
    if fmt == "litert":  # unrolled for the converter (no Flex ops), then as before
        assert [rnn.unroll for rnn in c["model"].recurrent] == [False]


@pytest.mark.jax_only  # the jax2onnx MaxPool limit
def test_jax_onnx_of_a_max_pooling_model_is_refused_with_the_backend_to_use(tmp_path):
    model = zoo.create("vgg11", input_shape=(8, 8, 1), num_classes=3, width_multiplier=1 / 32,
                       depths=(1, 1, 1, 1, 1))
    with pytest.raises(job.ExportError, match="--backend tensorflow"):
        job.export(model, tmp_path / "v.onnx", "onnx")
    assert list(tmp_path.iterdir()) == []
