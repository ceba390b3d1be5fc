"""Fréchet distance between two sets of feature vectors (the FID formula).

d^2 = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})  (Heusel et al., 2017).

`Tr((S_1 S_2)^{1/2})` is computed without a general matrix square root:
S_1 S_2 is similar to the symmetric positive semi-definite matrix
S_1^{1/2} S_2 S_1^{1/2}, so the trace is the sum of the square roots of that
matrix's eigenvalues (two symmetric `numpy.linalg.eigh` calls, no scipy).
"""

import numpy as np

from zoo.errors import UserValueError


def feature_statistics(features):
    """Mean and covariance (unbiased, float64) of `features` of shape (N, D)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise UserValueError(
            "`features` must be a (N, D) array with N >= 2. "
            f"Received: features with shape {features.shape}"
        )
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1]
    )


def sqrt_psd(matrix):
    """Symmetric square root of a symmetric positive semi-definite matrix."""
    matrix = (matrix + matrix.T) / 2.0
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def trace_sqrt_product(sigma1, sigma2):
    """Tr((S_1 S_2)^{1/2}) for covariance matrices S_1, S_2."""
    root = sqrt_psd(np.asarray(sigma1, dtype=np.float64))
    inner = root @ np.asarray(sigma2, dtype=np.float64) @ root
    values = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    return float(np.sum(np.sqrt(np.clip(values, 0.0, None))))


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Squared Fréchet distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: mean vectors, shape (D,).
        sigma1, sigma2: covariance matrices, shape (D, D).

    Example:

    ```python
    d = frechet_distance(*feature_statistics(a), *feature_statistics(b))
    ```
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise UserValueError(
            "Means must be (D,) and covariances (D, D) for one D. Received: shapes "
            f"{mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}"
        )
    diff = mu1 - mu2
    traces = np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    value = diff @ diff + traces
    # round-off can leave a tiny negative number for identical sets
    return float(max(value, 0.0))
