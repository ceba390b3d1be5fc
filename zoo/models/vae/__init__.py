"""The variational autoencoder (Kingma & Welling, 2014)."""

from zoo.models.vae.vae import VAE
from zoo.models.vae.vae_variants import vae

__all__ = ["VAE", "vae"]
