"""The GANs' named variants: `dcgan` and `wgan_gp`."""

from zoo.models.gan.dcgan import DCGAN
from zoo.models.gan.wgan_gp import WGANGP
from zoo.registry import create, register

#: every variant's constructor arguments (the classes' defaults fill the rest)
VARIANTS = {"dcgan": {}, "wgan_gp": {}}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: 8x8 images, a 3-d code, one small layer."""
    return {"input_shape": (8, 8, 1), "latent_dim": 3, "variant": "dense",
            "hidden_units": (12,), "filters": (4,),
            **({"critic_steps": 2} if name == "wgan_gp" else {})}


@register(DCGAN, VARIANTS)
def dcgan(**kwargs):
    """DCGAN (Radford et al. 2016): transposed-convolution generator, strided discriminator."""
    return create("dcgan", **kwargs)


@register(WGANGP, VARIANTS)
def wgan_gp(**kwargs):
    """WGAN-GP (Gulrajani et al. 2017): a critic with a gradient penalty, 5 critic steps."""
    return create("wgan_gp", **kwargs)
