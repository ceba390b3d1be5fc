"""`DCGAN` (Radford et al. 2016): the discriminator and the generator as two players."""

from keras import ops

from zoo.models.gan.adversarial_model import GAN_ARGUMENTS_DOC, AdversarialModel


class DCGAN(AdversarialModel):
    """Deep convolutional GAN (Radford et al., 2016) with the non-saturating loss.

    Discriminator: strided convolutions with LeakyReLU(0.2), one logit.
    Generator: Dense to a 7x7 map (at 28x28), transposed convolutions with
    batch normalisation and ReLU, sigmoid output. Players `d` (binary
    cross-entropy, real -> 1, generated -> 0) and `g` (generated -> 1), logged
    as `d_loss`, `g_loss`; `compile()` defaults both to Adam(2e-4, beta_1=0.5).
    At the defaults (conv, 28x28x1) the model has 352,194 parameters
    (generator 315,681, discriminator 36,513).

    Args:{args}        critic_steps: discriminator updates per generator update.
        seed: optional int seed of the latent draws.
        **kwargs: `ZooModel` arguments.

    Example:

    ```python
    model = zoo.create("dcgan")
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    model.fit(train, epochs=5)
    images = model.generate(64, seed=0)
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(28, 28, 1),
        latent_dim=64,
        variant="conv",
        hidden_units=(512, 256),
        filters=(32, 64),
        critic_steps=1,
        seed=None,
        **kwargs,
    ):
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, variant=variant,
                         hidden_units=hidden_units, filters=filters, critic_steps=critic_steps,
                         seed=seed, **kwargs)

    def discriminator_loss(self, real):
        n = ops.shape(real)[0]
        fake = ops.stop_gradient(self.fake_images(n))
        real_logits = ops.cast(self.discriminator(real, training=self.training_players), "float32")
        fake_logits = ops.cast(self.discriminator(fake, training=self.training_players), "float32")
        bce = ops.binary_crossentropy
        real_loss = ops.mean(bce(ops.ones_like(real_logits), real_logits, from_logits=True))
        fake_loss = ops.mean(bce(ops.zeros_like(fake_logits), fake_logits, from_logits=True))
        return 0.5 * (real_loss + fake_loss)

    def generator_loss(self, real):
        fake = self.fake_images(ops.shape(real)[0])
        fake_logits = ops.cast(self.discriminator(fake, training=self.training_players), "float32")
        return ops.mean(
            ops.binary_crossentropy(ops.ones_like(fake_logits), fake_logits, from_logits=True)
        )


DCGAN.__doc__ = DCGAN.__doc__.format(args=GAN_ARGUMENTS_DOC)
