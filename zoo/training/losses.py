"""Loss math that models evaluate themselves with (numpy, float64): ELBO terms, reconstruction.

It lives beside the training step, below the models; measures that need
another model (FID's feature network) live in `zoo.evaluation`, above them.
"""

import numpy as np

from zoo.errors import UserValueError


def reconstruction_error(images, reconstructions):
    """Per-pixel mean squared error and binary cross-entropy (nats) of reconstructions."""
    x = np.asarray(images, dtype=np.float64)
    r = np.asarray(reconstructions, dtype=np.float64)
    if x.shape != r.shape:
        raise UserValueError(
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
