"""Full-integer int8 export of every vision family (issue 24): `scripts/export.py`'s shared
path (`zoo.jobs.export.export` with an int8 request) to ONNX Runtime static QDQ and to LiteRT
full-integer, one model per vision class of the registry at its family's tiny configuration
(`tiny_arguments`; ImageNet layouts at 32x32x3), so a new family is covered without a line
here. Each artifact: every weight op takes int8 weights (ONNX graph / LiteRT flatbuffer),
and its outputs are within `RELATIVE_TOLERANCE` of keras's float model (random weights,
initial BatchNorm statistics)."""

import os

import numpy as np
import pytest
from model_checks import tiny_model

import keras
import zoo
from zoo import registry
from zoo.jobs import export as job
from zoo.jobs import quantize as qjob
from zoo.models.vision_classifier import VisionClassifier

# ||int8 - float|| / ||float|| over the validation images, all logits: 8-bit weights and
# activations of a random network lose a few percent (ConvNeXt, ViT: 6 %)
RELATIVE_TOLERANCE = 0.15
#: (family, format): int8 outputs measured further from float than RELATIVE_TOLERANCE, named
#: on docs/quantization.md; the test holds each gap to its figure, so a fix shows here
KNOWN_GAPS = {
    # the random tiny EfficientNet's float logits are ~1e-11 (its initial BatchNorm statistics
    # shrink every block), below what LiteRT's int8 output can hold: it gives zeros (1.0).
    # BatchNorm statistics from the images instead leave near-zero variances that turn
    # 8-bit rounding into noise (0.75 here, and DenseNet 0.59 in ONNX Runtime), so a random
    # network cannot tell whether a trained EfficientNet keeps its accuracy in LiteRT
    ("efficientnet", "litert"): 1.0,
}
#: the largest input side kept from a family's tiny configuration (Inception's smallest
#: input is 75x75); above it (the ImageNet layouts) the model is built at 32x32x3
LARGEST_SIDE = 75


def _one_name_per_vision_class():
    """The shortest registered name of every vision class (`VisionClassifier`)."""
    names = {}
    for name in sorted(zoo.list_models(), key=lambda n: (len(n), n)):
        cls = registry.get(name).cls
        if issubclass(cls, VisionClassifier):
            names.setdefault(cls, name)
    return sorted(names.values())


NAMES = _one_name_per_vision_class()


def _tiny_vision_model(name):
    model = tiny_model(name)
    if min(model.expected_input_shape()[:2]) > LARGEST_SIDE:
        model = tiny_model(name, input_shape=(32, 32, 3))
    return model


def _kernels(model):
    """The convolution and Dense kernels of `model`: each must be int8 in the artifact."""
    return [v for v in model.weights
            if v.path.rsplit("/", 1)[-1] in ("kernel", "depthwise_kernel") and len(v.shape) >= 2]


def test_the_vision_classes_are_all_here():
    families = {registry.get(n).family for n in NAMES}
    assert {"alexnet", "vgg", "googlenet", "resnet", "densenet", "inception", "mobilenet",
            "efficientnet", "regnet", "convnext", "vit", "swin", "speednet"} <= families
    assert {"mobilenet_v2", "mobilenet_v3_large"} <= set(NAMES)  # two classes, one family


#: the LiteRT cases run in `make test`: one LiteRT conversion costs 3-10 times an ONNX one
#: (keras writes a SavedModel inside its .tflite export, twice per int8 export), so the
#: families whose layer kinds other families' cases already cover through LiteRT (GoogLeNet,
#: Inception v3, DenseNet, ResNeXt's grouped convolution = RegNet's, MobileNet V2 and
#: EfficientNet's inverted residuals = MobileNet V3's) are checked in LiteRT by
#: `ZOO_LITERT_EVERY_FAMILY=1 pytest tests/quantization/test_quantization_families.py`
#: (docs/quantization.md, with the date of the last run); every family runs through ONNX
LITERT_NAMES = ("alexnet", "convnext_base", "mobilenet_v3_large", "regnet_x_8gf", "resnet18",
                "speednet", "swin_b", "vgg11", "vit_b_16")


def _cases():
    every = os.environ.get("ZOO_LITERT_EVERY_FAMILY") == "1"
    return [(name, "onnx") for name in NAMES] + [
        (name, "litert") for name in NAMES if every or name in LITERT_NAMES]


def test_the_litert_subset_names_registered_vision_models():
    assert set(LITERT_NAMES) <= set(NAMES), sorted(set(LITERT_NAMES) - set(NAMES))


# minutes in all (each conversion traces and converts a whole network): slow
@pytest.mark.slow
@pytest.mark.parametrize("name,format", _cases())
def test_every_vision_family_exports_full_integer_int8(name, format, tmp_path):
    keras.utils.set_random_seed(0)
    model = _tiny_vision_model(name)
    shape = model.expected_input_shape()
    # uniform noise: every pixel varies (Fashion-MNIST's black background gives a random
    # network's LayerNorm a zero variance there, which turns 8-bit rounding into noise)
    rng = np.random.default_rng(0)
    calibration = rng.uniform(size=(8, *shape)).astype("float32")
    validation = rng.uniform(size=(16, *shape)).astype("float32")
    request = qjob.request("int8", format, "fashion_mnist:8", min_agreement=0.0)
    request.data = qjob.Data(calibration, np.zeros(8, "int64"), validation,
                             np.zeros(16, "int64"))
    out = tmp_path / f"{name}.int8.{'onnx' if format == 'onnx' else 'tflite'}"
    report = job.export(model, out, format, quantize=request)["int8"]

    assert report["method"] == "static"
    assert report["float_weight_ops"] == {}, report["ops"]  # every weight op in int8
    assert report["int8_weights"] >= len(_kernels(model)), report
    inspected = qjob.int8_tensors(out, format)  # the artifact on disk, read again
    assert inspected["int8_weights"] == report["int8_weights"]
    int8 = job.load_artifact(out, format)(validation)
    reference = model.predict(validation, verbose=0)
    relative = np.linalg.norm(int8 - reference) / np.linalg.norm(reference)
    gap = KNOWN_GAPS.get((registry.get(name).family, format))
    if gap is not None:  # still the documented gap: when it closes, drop it from the table
        assert relative > RELATIVE_TOLERANCE and relative == pytest.approx(gap, abs=0.1), \
            (name, format, relative)
        return
    assert relative <= RELATIVE_TOLERANCE, (name, format, relative)
