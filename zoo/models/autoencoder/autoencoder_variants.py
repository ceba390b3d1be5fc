"""The autoencoders' named variants: plain, denoising and dropout."""

from zoo.models.autoencoder.autoencoder import Autoencoder
from zoo.models.autoencoder.denoising_autoencoder import DenoisingAutoencoder
from zoo.registry import create, register

#: every variant's constructor arguments (the classes' defaults fill the rest)
VARIANTS = {
    "autoencoder": {},
    "denoising_autoencoder": {},
    "dropout_autoencoder": {"noise": "dropout", "noise_rate": 0.2},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: 8x8 images, a 3-d code, one small layer."""
    return {"input_shape": (8, 8, 1), "latent_dim": 3, "variant": "dense",
            "hidden_units": (12,), "filters": (4,)}


@register(Autoencoder, VARIANTS)
def autoencoder(**kwargs):
    """An autoencoder trained to reconstruct its input (binary cross-entropy by default)."""
    return create("autoencoder", **kwargs)


@register(DenoisingAutoencoder, VARIANTS)
def denoising_autoencoder(**kwargs):
    """A denoising autoencoder (Vincent et al., 2008): Gaussian or masking noise in training."""
    return create("denoising_autoencoder", **kwargs)


@register(DenoisingAutoencoder, VARIANTS)
def dropout_autoencoder(**kwargs):
    """An autoencoder with dropout on its input pixels in training."""
    return create("dropout_autoencoder", **kwargs)
