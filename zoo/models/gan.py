"""Generative adversarial networks: DCGAN and WGAN-GP, as players of the zoo step."""

import keras
from keras import ops

from zoo.models._generative import (
    GenerativeModel,
    build_decoder,
    build_encoder,
    per_example_sum,
)
from zoo.registry import register
from zoo.training import Player, PlayerOptimizers, input_gradient
from zoo.utils.checks import check_non_negative, check_positive_int, check_seed
from zoo.utils.data import dataset_images
from zoo.utils.optimizers import resolve_optimizer


def _clone_optimizer(optimizer):
    if isinstance(optimizer, str):
        return resolve_optimizer(optimizer)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            "`optimizer` must be a keras optimizer, its name, or a PlayerOptimizers. "
            f"Received: optimizer={optimizer!r}"
        )
    return type(optimizer).from_config(optimizer.get_config())


class AdversarialModel(GenerativeModel):
    """A generator and a discriminator (or critic) trained as two players.

    `call` scores images with the discriminator (logits / critic values);
    `generate` draws images. The step alternates `d` updates (`critic_steps`
    of them) and one `g` update, each with its own optimizer (see `compile`).
    Subclasses define `discriminator_loss(real)` and `generator_loss(real)`.
    """

    #: names of the scalars the discriminator loss logs besides itself
    logged_aux = ()

    def __init__(
        self, input_shape, latent_dim, variant, hidden_units, filters, critic_steps, seed, **kwargs
    ):
        super().__init__(input_shape, latent_dim, variant, hidden_units, filters, **kwargs)
        self.critic_steps = check_positive_int("critic_steps", critic_steps)
        self.seed = check_seed(seed)
        shape = self._zoo_input_shape
        self.generator = build_decoder(
            self.latent_dim, shape, self.variant, self.hidden_units, self.filters, "generator",
            output_activation="sigmoid", batch_norm=True, kernel_size=4,
        )
        self.discriminator = build_encoder(
            shape, 1, self.variant, self.hidden_units, self.filters, "discriminator",
            activation="leaky_relu", kernel_size=4,
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        # True in the training step; evaluation runs the players' losses in
        # inference mode, so it leaves batch-norm statistics alone
        self.training_players = True
        # epoch means of the players' losses and of what they log besides
        self.trackers = [
            keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss") + self.logged_aux
        ]
        self.build_now()

    def call(self, inputs, training=False):
        return self.discriminator(inputs, training=training)

    # ------------------------------------------------------------------ training
    def default_optimizer(self, player):
        """The optimizer a player gets when `compile` names none (Radford et al., 2016)."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5)

    def compile(self, optimizer=None, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures the two players' optimizers.

        Args:
            optimizer: a `PlayerOptimizers({"d": ..., "g": ...})`; or one
                optimizer (or name) cloned for each player without its own;
                None: `default_optimizer`.
            d_optimizer, g_optimizer: the discriminator's / generator's optimizer.
            **kwargs: `ZooModel.compile` arguments (`gradient_clip_norm`,
                `momentum_schedule`, ...).

        Example:

        ```python
        model.compile(d_optimizer=keras.optimizers.Adam(1e-4), g_optimizer="adam")
        ```
        """
        if isinstance(optimizer, PlayerOptimizers):
            if d_optimizer is not None or g_optimizer is not None:
                raise ValueError(
                    "Pass either a PlayerOptimizers or d_optimizer/g_optimizer, not both. "
                    f"Received: optimizer={optimizer!r}, d_optimizer={d_optimizer!r}, "
                    f"g_optimizer={g_optimizer!r}"
                )
            players = optimizer
        else:
            if d_optimizer is not None and d_optimizer is g_optimizer and not isinstance(
                d_optimizer, str
            ):
                raise ValueError(
                    "`d_optimizer` and `g_optimizer` must be two optimizer objects (each "
                    "keeps its own slots). Received: the same object for both"
                )
            chosen = {}
            for player, given in (("d", d_optimizer), ("g", g_optimizer)):
                if given is not None:
                    chosen[player] = _clone_optimizer(given) if isinstance(given, str) else given
                elif optimizer is not None:
                    chosen[player] = _clone_optimizer(optimizer)
                else:
                    chosen[player] = self.default_optimizer(player)
            players = PlayerOptimizers(chosen)
        super().compile(optimizer=players, **kwargs)

    def players(self):
        optimizers = self.optimizer if isinstance(self.optimizer, PlayerOptimizers) else None
        return [
            Player(
                "d",
                self._player_loss(self.discriminator_loss),
                self.discriminator.trainable_variables,
                optimizers["d"] if optimizers else None,
                steps=self.critic_steps,
            ),
            Player(
                "g",
                self._player_loss(self.generator_loss),
                self.generator.trainable_variables,
                optimizers["g"] if optimizers else None,
            ),
        ]

    def player_test_step(self, data):
        # read while the step is traced: the test step's graph is built in inference mode
        self.training_players = False
        try:
            return super().player_test_step(data)
        finally:
            self.training_players = True

    @staticmethod
    def _player_loss(fn):
        def loss(data):
            real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
            return fn(ops.cast(real, "float32"))

        return loss

    def sample_latent(self, n):
        """z ~ N(0, I) of shape (n, latent_dim) from the model's seed generator."""
        return keras.random.normal((n, self.latent_dim), seed=self.seed_generator)

    def fake_images(self, n):
        z = self.sample_latent(n)
        return ops.cast(self.generator(z, training=self.training_players), "float32")

    def discriminator_loss(self, real):  # pragma: no cover - abstract
        raise NotImplementedError

    def generator_loss(self, real):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def metrics(self):
        # the players' losses, not keras's compiled `loss` (these models have none)
        return list(self.trackers)

    # ------------------------------------------------------------------ use
    def generate(self, n, seed=0, batch_size=256):
        """`n` images from z ~ N(0, I) drawn with `seed`, as numpy in [0, 1]."""
        return self.generator.predict(self._latent(n, seed), batch_size=batch_size, verbose=0)

    def preview_images(self, num_images=64, seed=0, inputs=None):
        return {"samples": self.generate(num_images, seed=seed)}

    def evaluation_metrics(self, test_dataset, dataset=None, batch_size=256):
        """The players' test losses (a compiled model); {} otherwise.

        None of them ranks generators: `zoo.evaluation.evaluate` adds the
        Fréchet distance of generated images (FID-FMNIST on Fashion-MNIST).
        """
        results = {}
        if getattr(self, "compiled", False):
            x = dataset_images(test_dataset)
            logs = self.evaluate(x, batch_size=batch_size, return_dict=True, verbose=0)
            results.update({k: float(v) for k, v in logs.items()})
        return results

    def get_config(self):
        return {**super().get_config(), "critic_steps": self.critic_steps, "seed": self.seed}


_GAN_DOC_ARGS = """
        input_shape: image shape (H, W, C), values in [0, 1].
        latent_dim: size of the generator's input z ~ N(0, I).
        variant: "conv" (transposed convolutions / strided convolutions) or "dense".
        hidden_units: Dense widths of the discriminator (the generator mirrors
            them); dense variant.
        filters: Conv2D widths of the discriminator, one stride-2 stage each
            (the generator mirrors them); conv variant. H and W must be
            divisible by 2**len(filters).
"""


@register("dcgan")
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
        input_shape=(28, 28, 1),
        latent_dim=64,
        variant="conv",
        hidden_units=(512, 256),
        filters=(32, 64),
        critic_steps=1,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            input_shape, latent_dim, variant, hidden_units, filters, critic_steps, seed, **kwargs
        )

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


DCGAN.__doc__ = DCGAN.__doc__.format(args=_GAN_DOC_ARGS)


@register("wgan_gp")
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
        super().__init__(
            input_shape, latent_dim, variant, hidden_units, filters, critic_steps, seed, **kwargs
        )

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


WGANGP.__doc__ = WGANGP.__doc__.format(args=_GAN_DOC_ARGS)
