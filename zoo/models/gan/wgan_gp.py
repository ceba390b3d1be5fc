"""`WGANGP` (Gulrajani et al. 2017): a Wasserstein GAN with a gradient penalty."""

import keras
from keras import ops

from zoo.models.gan.adversarial_model import GAN_ARGUMENTS_DOC, AdversarialModel
from zoo.models.generative_model import per_example_sum
from zoo.training import input_gradient
from zoo.utils.checks import check_non_negative


class WGANGP(AdversarialModel):
    """Wasserstein GAN with gradient penalty (Gulrajani et al., 2017).

    The critic (no normalisation, LeakyReLU) scores images; its loss is
    `mean(D(fake)) - mean(D(real)) + gp_weight * GP` with
    `GP = mean((||grad_x D(x_hat)||_2 - 1)^2)` at random interpolates `x_hat` of
    real and generated images. The input gradient comes from
    `zoo.training.input_gradient` and is differentiated again by the update:
    a second-order gradient, on every backend. `critic_steps` critic updates
    (on the same real batch, fresh latent draws) precede each generator update.
    Logged: `d_loss`, `g_loss`, `gp`, and `wasserstein` (mean D(real) - mean
    D(fake), the critic's distance estimate). `compile()` defaults both players
    to Adam(1e-4, beta_1=0.5, beta_2=0.9). At the defaults (conv, 28x28x1) the
    model has 352,194 parameters
    (generator 315,681, discriminator 36,513).

    Args:{args}        critic_steps: critic updates per generator update (paper: 5).
        gp_weight: weight of the gradient penalty (paper: 10).
        seed: optional int seed of the latent and interpolation draws.
        **kwargs: `ZooModel` arguments.

    Example:

    ```python
    model = zoo.create("wgan_gp", critic_steps=5, gp_weight=10.0)
    model.compile()
    model.fit(train, epochs=5)
    ```
    """

    logged_aux = ("gp", "wasserstein")

    def __init__(
        self,
        *,
        input_shape=(28, 28, 1),
        latent_dim=64,
        variant="conv",
        hidden_units=(512, 256),
        filters=(32, 64),
        critic_steps=5,
        gp_weight=10.0,
        seed=None,
        **kwargs,
    ):
        self.gp_weight = check_non_negative("gp_weight", gp_weight)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, variant=variant,
                         hidden_units=hidden_units, filters=filters, critic_steps=critic_steps,
                         seed=seed, **kwargs)

    @property
    def critic(self):
        """The discriminator, a critic here: unbounded scores, no sigmoid."""
        return self.discriminator

    def default_optimizer(self, player):
        return keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)

    def gradient_penalty(self, real, fake):
        """mean over the batch of (||d critic(x_hat) / d x_hat||_2 - 1)^2.

        `x_hat = fake + eps * (real - fake)` with eps ~ U[0, 1] per image.
        """
        real = ops.cast(real, "float32")
        fake = ops.cast(fake, "float32")
        n = ops.shape(real)[0]
        shape = (n,) + (1,) * len(self._zoo_input_shape)
        eps = keras.random.uniform(shape, seed=self.seed_generator)
        x_hat = fake + eps * (real - fake)
        grads = input_gradient(lambda t: self.critic(t, training=self.training_players), x_hat)
        norms = ops.sqrt(per_example_sum(ops.square(ops.cast(grads, "float32"))) + 1e-12)
        return ops.mean(ops.square(norms - 1.0))

    def discriminator_loss(self, real):
        n = ops.shape(real)[0]
        fake = ops.stop_gradient(self.fake_images(n))
        training = self.training_players
        real_score = ops.mean(ops.cast(self.critic(real, training=training), "float32"))
        fake_score = ops.mean(ops.cast(self.critic(fake, training=training), "float32"))
        penalty = self.gradient_penalty(real, fake)
        wasserstein = real_score - fake_score
        return -wasserstein + self.gp_weight * penalty, {"gp": penalty, "wasserstein": wasserstein}

    def generator_loss(self, real):
        scores = self.critic(self.fake_images(ops.shape(real)[0]), training=self.training_players)
        return -ops.mean(ops.cast(scores, "float32"))

    def get_config(self):
        return {**super().get_config(), "gp_weight": self.gp_weight}


WGANGP.__doc__ = WGANGP.__doc__.format(args=GAN_ARGUMENTS_DOC)
