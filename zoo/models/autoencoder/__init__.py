"""Autoencoders: plain, denoising (Gaussian or masking noise), dropout on the input."""

from zoo.models.autoencoder.autoencoder import Autoencoder
from zoo.models.autoencoder.autoencoder_variants import (
    autoencoder,
    denoising_autoencoder,
    dropout_autoencoder,
)
from zoo.models.autoencoder.denoising_autoencoder import DenoisingAutoencoder
from zoo.models.autoencoder.masking_noise import MaskingNoise

__all__ = ["Autoencoder", "DenoisingAutoencoder", "MaskingNoise", "autoencoder",
           "denoising_autoencoder", "dropout_autoencoder"]
