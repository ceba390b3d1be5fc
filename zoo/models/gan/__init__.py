"""Generative adversarial networks: DCGAN and WGAN-GP, as players of the zoo step."""

from zoo.models.gan.adversarial_model import AdversarialModel
from zoo.models.gan.dcgan import DCGAN
from zoo.models.gan.gan_variants import dcgan, wgan_gp
from zoo.models.gan.wgan_gp import WGANGP

__all__ = ["AdversarialModel", "DCGAN", "WGANGP", "dcgan", "wgan_gp"]
