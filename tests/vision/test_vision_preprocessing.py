"""ImagePreprocessing against torchvision's transform; models that carry their preprocessing."""

import hashlib

import keras
import numpy as np
import pytest

import zoo
from zoo import weights as zw
from zoo.models.preprocessing import ImagePreprocessing, preprocessing_arguments

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
TRANSFORM = {"resize": 36, "crop": 32, "interpolation": "bilinear", "mean": list(MEAN),
             "std": list(STD)}


def smooth_images(n, height, width, seed=0):
    """uint8 RGB images without pixel noise (resize kernels differ most on noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    out = [np.stack([127 + 100 * np.sin(xx / rng.uniform(5, 12) + c) * np.cos(yy / 7.0 - c)
                     for c in range(3)], -1) for _ in range(n)]
    return np.clip(out, 0, 255).astype("uint8")


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
@pytest.mark.parametrize("size", [(90, 120), (121, 80)])
def test_equals_torchvision_image_classification(interpolation, size):
    import torch  # installed by `make install`; a skip would hide the check
    from zoo.jobs.references import import_torchvision

    tv = import_torchvision()
    images = smooth_images(2, *size)
    reference = tv.transforms._presets.ImageClassification(
        crop_size=56, resize_size=64, interpolation=tv.transforms.InterpolationMode(interpolation))
    want = reference(torch.from_numpy(images).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    layer = ImagePreprocessing(64, 56, interpolation, MEAN, STD)
    got = keras.ops.convert_to_numpy(layer(images))
    assert got.shape == want.shape == (2, 56, 56, 3)
    # torchvision resizes uint8 images to uint8: half a grey level is 0.009 here
    assert np.abs(got - want).max() < 0.02
    # the crop and normalization alone are exact
    side = min(size)
    square = images[:, :side, :side]
    exact = tv.transforms._presets.ImageClassification(crop_size=40, resize_size=side)
    got = ImagePreprocessing(None, 40, interpolation, MEAN, STD)(square)
    want = exact(torch.from_numpy(square).permute(0, 3, 1, 2))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got),
                               want.permute(0, 2, 3, 1).numpy(), atol=1e-5)


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="resize=0"):
        ImagePreprocessing(0, 32)
    with pytest.raises(ValueError, match="crop="):
        ImagePreprocessing(36, (32,))
    with pytest.raises(ValueError, match="interpolation='nearest'"):
        ImagePreprocessing(36, 32, "nearest")
    with pytest.raises(ValueError, match="smaller than the crop"):
        ImagePreprocessing(None, 32)(np.zeros((1, 20, 40, 3), "uint8"))


@pytest.fixture
def entry(tmp_path, monkeypatch):
    """A keras-format entry with a transform, as the ImageNet entries have."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    source = zoo.create("resnet18", input_shape=(32, 32, 3), num_classes=4,
                        width_multiplier=0.125, depths=(1, 1, 1, 1))
    path = tmp_path / "tiny.weights.h5"
    source.save_weights(str(path))
    data = path.read_bytes()
    spec = zw.WeightsSpec(
        name="resnet18.tiny_preprocessed", model="resnet18", url=path.as_uri(),
        model_config=dict(input_shape=(32, 32, 3), num_classes=4, width_multiplier=0.125,
                          depths=(1, 1, 1, 1)),
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), dataset="random", metrics={},
        evaluation_command="", params=source.count_params(), input_shape=(32, 32, 3),
        preprocessing="resize 36, crop 32", training_command="", license="test",
        transform=TRANSFORM, class_names="imagenet1k")
    return spec, source


@pytest.mark.jax
@pytest.mark.torch
def test_a_model_created_with_weights_carries_their_preprocessing(entry, tmp_path):
    """Raw images of any size, one predict after another (TensorFlow traces each size)."""
    spec, source = entry
    model = zoo.create("resnet18", weights=spec)
    assert model.get_config()["preprocessing"] == preprocessing_arguments(TRANSFORM)
    prep = ImagePreprocessing(**preprocessing_arguments(TRANSFORM))
    images, other = smooth_images(3, 50, 41), smooth_images(2, 37, 60)  # uint8, any size
    want = source.predict(prep(images), verbose=0)
    want_other = source.predict(prep(other), verbose=0)
    for _ in range(2):  # each size again after the other
        np.testing.assert_allclose(model.predict(images, verbose=0), want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(model.predict(other, verbose=0), want_other, rtol=1e-5,
                                   atol=1e-5)
    model.save(str(tmp_path / "carried.keras"))
    reloaded = keras.saving.load_model(str(tmp_path / "carried.keras"))
    np.testing.assert_allclose(reloaded.predict(images, verbose=0), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(reloaded.predict(other, verbose=0), want_other, rtol=1e-5,
                               atol=1e-5)
    assert reloaded.expected_input_shape() == (None, None, 3)
    # opting out, and another input size (the resize scales with the crop)
    bare = zoo.create("resnet18", weights=spec, preprocessing=None)
    assert bare.get_config()["preprocessing"] is None
    larger = zoo.create("resnet18", weights=spec, input_shape=(48, 48, 3))
    assert larger.get_config()["preprocessing"]["resize"] == 54
    assert larger.predict(images, verbose=0).shape == (3, 4)
