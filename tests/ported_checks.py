"""The parity check every family with converted weights runs in its own tests.

A torchvision (or timm) reference with random weights and random BatchNorm
statistics (with fresh BN, a wrong epsilon or a missing BN layer still passes)
is saved in its source's real format (`torch.save` state dict, timm's
safetensors), published as a temporary entry with a `file://` url, loaded
through `zoo.create(name, weights=spec)` (verification, conversion, cache) and
compared in inference on the same images: the logits and every `features_only`
stage, relative to the largest reference value.

```python
check_port("resnet50", dict(depths=(1, 2, 1, 1)),
           lambda tv: tv.models.resnet.ResNet(tv.models.resnet.Bottleneck, [1, 2, 1, 1]),
           "torchvision", tmp_path)
```
"""

import hashlib
import io
import warnings

import keras
import numpy as np

import zoo
from zoo import weights as zw
from zoo.jobs import references

SIZE = 64
RTOL = 1e-4  # max |difference| <= RTOL * max |reference logit|
IMAGENET_MEAN, IMAGENET_STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])


def serialize(state, source):
    """(bytes, suffix) of a state dict in `source`'s format."""
    if source == "timm":
        from safetensors.torch import save

        return save({k: v.contiguous() for k, v in state.items()}), ".safetensors"
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue(), ".pth"


def make_spec(name, zoo_args, url, data, source, hash_kind=None, size=SIZE):
    """A temporary entry for a file (torchvision: the sha256 prefix in its name)."""
    digest = hashlib.sha256(data).hexdigest()
    hash_kind = hash_kind or ("sha256-prefix" if source == "torchvision" else "sha256")
    # the arguments that differ from the registered defaults are config enough
    config = dict(input_shape=(size, size, 3), **zoo_args)
    return zw.WeightsSpec(
        name=f"{name}.test_{source}", model=name, model_config=config, url=url,
        sha256=digest[:8] if hash_kind == "sha256-prefix" else digest, size=None,
        dataset="random", metrics={}, evaluation_command="", params=1,
        input_shape=(size, size, 3), preprocessing="none", training_command="none",
        license="test", source_format=source, hash_kind=hash_kind)


def imagenet_images(n=2, size=SIZE, seed=0):
    """(pixels in [0, 255], the same ImageNet-normalized), NHWC float32."""
    pixels = np.random.default_rng(seed).uniform(0, 255, size=(n, size, size, 3))
    images = (pixels / 255 - IMAGENET_MEAN) / IMAGENET_STD
    return pixels.astype("float32"), images.astype("float32")


def infer(model, x):
    """Inference outputs: traced on JAX (its eager ops compile one by one), eager on
    TensorFlow (tracing a 60-layer graph costs more than running it once)."""
    if keras.backend.backend() == "jax":
        return model.predict(x, verbose=0)
    return model(x, training=False)


def assert_close(got, want, what):
    got = keras.ops.convert_to_numpy(got)
    scale = np.abs(want).max()
    diff = np.abs(got - want).max()
    assert got.shape == want.shape, (what, got.shape, want.shape)
    assert diff <= RTOL * scale, f"{what}: max |diff| {diff:.3g} > {RTOL} x {scale:.3g}"


def check_port(name, zoo_args, build_reference, source, folder, zoo_inputs=None, seed=0,
               size=SIZE, **create_kwargs):
    """Ports a random `build_reference(torchvision or timm)` into zoo model `name`; asserts
    equal logits and stages.

    Args:
        name: the zoo model; `zoo_args` its arguments that differ from the variant's.
        build_reference: `fn(module) -> torch module` (module: torchvision, or timm for
            `source="timm"`), with the zoo arguments' depths and widths.
        source: "torchvision" or "timm".
        folder: a temporary folder (`tmp_path`): the cache (ZOO_HOME) and the file.
        zoo_inputs: "pixels" when the zoo model takes raw pixels (its entry carries the
            preprocessing), else None (ImageNet-normalized images, as the reference).
        size: the images' side (the model's smallest input may be larger than 64).
        **create_kwargs: more `zoo.create` arguments (e.g. `preprocessing`).
    """
    import os

    library = references.import_timm() if source == "timm" else references.import_torchvision()
    reference = references.randomize(build_reference(library).eval(), seed=seed)
    data, suffix = serialize(reference.state_dict(), source)
    path = folder / f"{name}-{hashlib.sha256(data).hexdigest()[:8]}{suffix}"
    path.write_bytes(data)
    spec = make_spec(name, zoo_args, path.as_uri(), data, source, size=size)
    pixels, images = imagenet_images(size=size)
    logits, stages = references.logits_and_stages(reference, name, images)
    x = pixels if zoo_inputs == "pixels" else images
    home = os.environ.get("ZOO_HOME")
    os.environ["ZOO_HOME"] = str(folder / "zoo-home")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # a faithful port loads without one
            model = zoo.create(name, weights=spec, **create_kwargs)
            features = zoo.create(name, weights=spec, features_only=True, **create_kwargs)
    finally:
        if home is None:
            os.environ.pop("ZOO_HOME")
        else:
            os.environ["ZOO_HOME"] = home
    assert_close(infer(model, x), logits, f"{name} logits")
    outputs = infer(features, x)
    assert len(outputs) == len(stages)
    for i, (got, want) in enumerate(zip(outputs, stages)):
        assert_close(got, want, f"{name} stage {i + 1}")
