"""`AdversarialModel`: the base of the GANs, as players of the zoo step."""

import keras
from keras import ops

from zoo.errors import UserTypeError, UserValueError
from zoo.models.generative_model import (
    GenerativeModel,
    build_decoder,
    build_encoder,
)
from zoo.training import Player, PlayerOptimizers
from zoo.utils.checks import check_positive_int, check_seed
from zoo.utils.data import dataset_images
from zoo.utils.optimizers import resolve_optimizer


def _clone_optimizer(optimizer):
    if isinstance(optimizer, str):
        return resolve_optimizer(optimizer)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise UserTypeError(
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

    def __init__(self, *, input_shape, latent_dim, variant, hidden_units, filters, critic_steps,
                 seed, **kwargs):
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, variant=variant,
                         hidden_units=hidden_units, filters=filters, **kwargs)
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
                raise UserValueError(
                    "Pass either a PlayerOptimizers or d_optimizer/g_optimizer, not both. "
                    f"Received: optimizer={optimizer!r}, d_optimizer={d_optimizer!r}, "
                    f"g_optimizer={g_optimizer!r}"
                )
            players = optimizer
        else:
            if d_optimizer is not None and d_optimizer is g_optimizer and not isinstance(
                d_optimizer, str
            ):
                raise UserValueError(
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

    # ------------------------------------------------------------------ export
    def export_parts(self):
        """The parts `scripts/export.py --part` writes: {part: what it takes, what it computes}."""
        return {
            "generator": {"input": "latent",
                          "computes": "latent codes z (N, latent_dim) -> images in [0, 1]"},
            "discriminator": {"input": "images", "computes": "images -> one logit (critic value "
                                                             "for wgan_gp) per image"},
        }

    def export_part(self, part, inputs):
        """The inference function of `part` on the symbolic `inputs` (its outputs)."""
        net = self.generator if part == "generator" else self.discriminator
        return net(inputs, training=False)

    def get_config(self):
        return {**super().get_config(), "critic_steps": self.critic_steps, "seed": self.seed}


#: the arguments every GAN shares, for their docstrings
GAN_ARGUMENTS_DOC = """
        input_shape: image shape (H, W, C), values in [0, 1].
        latent_dim: size of the generator's input z ~ N(0, I).
        variant: "conv" (transposed convolutions / strided convolutions) or "dense".
        hidden_units: Dense widths of the discriminator (the generator mirrors
            them); dense variant.
        filters: Conv2D widths of the discriminator, one stride-2 stage each
            (the generator mirrors them); conv variant. H and W must be
            divisible by 2**len(filters).
"""
