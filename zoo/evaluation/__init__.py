"""Measures of generative models: FID-FMNIST, ELBO pieces, reconstruction error.

```python
from zoo.evaluation import fid
score = fid(generated, test_images, feature_model="runs/fid-mlp")
```
"""

import inspect

import numpy as np

from zoo.errors import UserValueError
from zoo.evaluation.features import (
    DEFAULT_FEATURE_WEIGHTS,
    load_feature_model,
    penultimate_features,
    penultimate_function,
)
from zoo.evaluation.frechet import (
    feature_statistics,
    frechet_distance,
    sqrt_psd,
    trace_sqrt_product,
)
from zoo.training.losses import bernoulli_log_likelihood, gaussian_kl, reconstruction_error
from zoo.utils.data import dataset_images

#: images on each side of FID-FMNIST
FID_SAMPLES = 10_000


def fid(images, reference_images, feature_model=None, batch_size=1000):
    """Fréchet distance between two image sets in the feature model's penultimate layer.

    With the default feature model (the zoo's Fashion-MNIST MLP), 10,000
    images and the 10,000 Fashion-MNIST test images as `reference_images`,
    this is FID-FMNIST.

    Args:
        images, reference_images: arrays (N, H, W, C) with values in [0, 1].
        feature_model: see `load_feature_model` (None: published MLP weights).
        batch_size: images per forward pass.

    Example:

    ```python
    score = fid(model.generate(10000), x_test, feature_model="runs/fid-mlp")
    ```
    """
    model = load_feature_model(feature_model)
    a = penultimate_features(model, images, batch_size)
    b = penultimate_features(model, reference_images, batch_size)
    return frechet_distance(*feature_statistics(a), *feature_statistics(b))


def evaluate(
    model,
    test_dataset,
    dataset=None,
    feature_model=None,
    num_samples=None,
    seed=0,
    batch_size=256,
    **kwargs,
):
    """What `scripts/evaluate.py` reports for `model` on `test_dataset`.

    The model's own `evaluation_metrics` (accuracy and loss; ELBO and
    reconstruction error; the players' losses), plus, for models that
    `generate` images, the Fréchet distance of `num_samples` generated images
    (default: as many as test images) to the test images: FID-FMNIST on
    Fashion-MNIST, `frechet_distance` in `feature_model`'s features elsewhere.

    Args:
        model: a zoo model.
        test_dataset: a dataset of (x, y) batches or an array of images.
        dataset: the dataset's name ("fashion_mnist" turns FID-FMNIST on).
        feature_model: classifier whose penultimate features FID uses (see
            `load_feature_model`); generative models only.
        num_samples, seed, batch_size: of the generated images.
        **kwargs: passed to `model.evaluation_metrics`.

    Example:

    ```python
    figures = zoo.evaluation.evaluate(vae, test, dataset="fashion_mnist")
    ```
    """
    generate = getattr(model, "generate", None)
    if feature_model is not None and not callable(generate):
        raise UserValueError(
            f"`feature_model` applies to generative models; {type(model).__name__} "
            f"generates no images. Received: feature_model={feature_model!r}"
        )
    if "seed" in inspect.signature(model.evaluation_metrics).parameters:
        kwargs.setdefault("seed", seed)  # the VAE's ELBO draws its z with the same seed
    results = model.evaluation_metrics(test_dataset, dataset=dataset, **kwargs)
    if callable(generate) and (dataset == "fashion_mnist" or feature_model is not None):
        x = dataset_images(test_dataset)
        samples = generate(num_samples or len(x), seed=seed, batch_size=batch_size)
        key = "fid_fmnist" if dataset == "fashion_mnist" else "frechet_distance"
        results[key] = fid(samples, x, feature_model=feature_model)
    return results


def uniform_noise_images(n, shape, seed=0):
    """`n` images of `shape` with pixels uniform in [0, 1]: FID's far reference."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, (n,) + tuple(shape)).astype(np.float32)


__all__ = [
    "DEFAULT_FEATURE_WEIGHTS",
    "FID_SAMPLES",
    "bernoulli_log_likelihood",
    "evaluate",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "gaussian_kl",
    "load_feature_model",
    "penultimate_features",
    "penultimate_function",
    "reconstruction_error",
    "sqrt_psd",
    "trace_sqrt_product",
    "uniform_noise_images",
]
