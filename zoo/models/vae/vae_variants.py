"""The VAE's named variant: `vae`, a convolutional VAE for 28x28 images."""

from zoo.models.vae.vae import VAE
from zoo.registry import create, register

#: every variant's constructor arguments (VAE's defaults fill the rest)
VARIANTS = {"vae": {}}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: 8x8 images, a 3-d code, one small layer."""
    return {"input_shape": (8, 8, 1), "latent_dim": 3, "variant": "dense",
            "hidden_units": (12,), "filters": (4,)}


@register(VAE, VARIANTS, weights=("fashion_mnist",))
def vae(**kwargs):
    """A VAE with a Bernoulli decoder: 228,193 parameters at the defaults (conv, 28x28x1)."""
    return create("vae", **kwargs)
