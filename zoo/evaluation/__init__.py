"""Measures of generative models: FID-FMNIST, ELBO pieces, reconstruction error.

```python
from zoo.evaluation import fid
score = fid(generated, test_images, feature_model="runs/fid-mlp")
```
"""

import numpy as np

from zoo.evaluation.features import (
    DEFAULT_FEATURE_MODEL,
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


def reconstruction_error(images, reconstructions):
    """Per-pixel mean squared error and binary cross-entropy (nats) of reconstructions."""
    x = np.asarray(images, dtype=np.float64)
    r = np.asarray(reconstructions, dtype=np.float64)
    if x.shape != r.shape:
        raise ValueError(
            "`images` and `reconstructions` must have the same shape. "
            f"Received: {x.shape} and {r.shape}"
        )
    p = np.clip(r, 1e-7, 1 - 1e-7)
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p))
    return {
        "reconstruction_mse": float(np.mean((x - r) ** 2)),
        "reconstruction_bce": float(np.mean(bce)),
    }


def bernoulli_log_likelihood(images, logits):
    """log p(x | logits) summed over pixels, per image (nats), for x in [0, 1]."""
    x = np.asarray(images, np.float64).reshape(len(images), -1)
    z = np.asarray(logits, np.float64).reshape(len(logits), -1)
    # -BCE with logits, in the overflow-free form
    return -np.sum(np.maximum(z, 0) - z * x + np.log1p(np.exp(-np.abs(z))), axis=1)


def gaussian_kl(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example (nats)."""
    mean, log_var = np.asarray(mean, np.float64), np.asarray(log_var, np.float64)
    return -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=1)


def uniform_noise_images(n, shape, seed=0):
    """`n` images of `shape` with pixels uniform in [0, 1]: FID's far reference."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, (n,) + tuple(shape)).astype(np.float32)


__all__ = [
    "DEFAULT_FEATURE_MODEL",
    "FID_SAMPLES",
    "bernoulli_log_likelihood",
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
