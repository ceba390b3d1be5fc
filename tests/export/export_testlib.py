"""Helpers of the export tests: tiny models, their inputs and keras's reference outputs."""

import numpy as np

TEXTS = np.array([
    "a good film with great acting",
    "a bad film, dull and boring",
    "what a mess",
    "great story and a good cast",
    "boring",
    "an unknown word: zebra",  # out of the vocabulary: [UNK]
])


def randomize_batch_norm(model, seed=0):
    """Moving means/variances away from 0/1, so inference-mode BN is really exercised."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        if v.path.endswith("moving_mean"):
            v.assign(rng.normal(0.0, 0.5, v.shape).astype("float32"))
        elif v.path.endswith("moving_variance"):
            v.assign(rng.uniform(0.5, 2.0, v.shape).astype("float32"))
    return model


def images(shape, n=5, seed=0):
    """`n` raw uint8 images of `shape` (H, W, C)."""
    return np.random.default_rng(seed).integers(0, 256, (n,) + tuple(shape)).astype("uint8")


def latents(dim, n=5, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype("float32")


def vectorizer_from_sidecar(sidecar):
    """A TextVectorization rebuilt from a token-id artifact's vocabulary file alone."""
    import keras

    return keras.layers.TextVectorization(
        vocabulary=sidecar["tokens"][2:],  # keras adds padding and [UNK] itself
        standardize=sidecar["standardize"],
        split=sidecar["split"],
        ngrams=sidecar["ngrams"],
        output_sequence_length=sidecar["sequence_length"],
        output_mode="int",
    )
