"""`VAE`: the variational autoencoder (Kingma & Welling, 2014)."""

import keras
import numpy as np
from keras import ops

from zoo.models.generative_model import (
    GenerativeModel,
    build_decoder,
    build_encoder,
    interleave_rows,
    per_example_sum,
    weighted_mean,
)
from zoo.training.losses import bernoulli_log_likelihood, gaussian_kl, reconstruction_error
from zoo.utils.checks import check_non_negative, check_seed
from zoo.utils.data import dataset_images


def _sigmoid(logits):
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, np.float64)))


class VAE(GenerativeModel):
    """Variational autoencoder with a Bernoulli decoder and a Gaussian posterior.

    The encoder gives the mean and log-variance of q(z|x); in training z is
    drawn by the reparameterisation z = mean + exp(log_var / 2) * eps, with eps
    from a `keras.random.SeedGenerator`. The loss is the negative ELBO with a
    weight `beta` on the KL term (beta-VAE, Higgins et al., 2017):
    `reconstruction_loss` (binary cross-entropy summed over pixels) and
    `kl_loss` are logged separately, in nats per image. Inference (`call`
    with `training=False`, `reconstruct`) decodes the mean. At the defaults
    (conv, 28x28x1) the model has 228,193 parameters.

    `call` returns a dict: `reconstruction` (sigmoid of `logits`), `logits`,
    `z_mean`, `z_log_var`.

    Args:
        input_shape: image shape (H, W, C), values in [0, 1].
        latent_dim: size of z.
        variant: "conv" or "dense".
        hidden_units: Dense widths of the encoder (decoder mirrors); dense variant.
        filters: Conv2D widths of the encoder (decoder mirrors); conv variant.
        beta: weight of the KL term in the training loss (1: the ELBO).
        seed: optional int seed of the reparameterisation noise.
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("vae", latent_dim=16)
    model.compile(optimizer="adam")
    model.fit(x_train, epochs=10)
    images = model.generate(16, seed=0)
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(28, 28, 1),
        latent_dim=16,
        variant="conv",
        hidden_units=(256, 128),
        filters=(32, 64),
        beta=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, variant=variant,
                         hidden_units=hidden_units, filters=filters, **kwargs)
        self.beta = check_non_negative("beta", beta)
        self.seed = check_seed(seed)
        shape = self._zoo_input_shape
        self.encoder = build_encoder(
            shape, 2 * self.latent_dim, self.variant, self.hidden_units, self.filters, "encoder"
        )
        self.decoder = build_decoder(
            self.latent_dim, shape, self.variant, self.hidden_units, self.filters, "decoder"
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.build_now()

    def call(self, inputs, training=False):
        z_mean, z_log_var = ops.split(self.encoder(inputs, training=training), 2, axis=-1)
        z = z_mean
        if training:
            eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
            z = z_mean + ops.exp(0.5 * z_log_var) * ops.cast(eps, z_mean.dtype)
        logits = self.decoder(z, training=training)
        return {
            "reconstruction": ops.sigmoid(logits),
            "logits": logits,
            "z_mean": z_mean,
            "z_log_var": z_log_var,
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        target = ops.cast(x, "float32")
        logits = ops.cast(y_pred["logits"], "float32")
        z_mean = ops.cast(y_pred["z_mean"], "float32")
        z_log_var = ops.cast(y_pred["z_log_var"], "float32")
        reconstruction = per_example_sum(
            ops.binary_crossentropy(target, logits, from_logits=True)
        )
        kl = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)
        self.reconstruction_tracker.update_state(reconstruction, sample_weight=sample_weight)
        self.kl_tracker.update_state(kl, sample_weight=sample_weight)
        return weighted_mean(reconstruction + self.beta * kl, sample_weight)

    # ------------------------------------------------------------------ use
    def encode(self, x, batch_size=256):
        """Posterior means (N, latent_dim) of images `x`, as numpy."""
        stats = self.encoder.predict(x, batch_size=batch_size, verbose=0)
        return stats[:, : self.latent_dim]

    def decode(self, z, batch_size=256):
        """Images (Bernoulli means in [0, 1]) decoded from codes `z`, as numpy."""
        return _sigmoid(self.decoder.predict(z, batch_size=batch_size, verbose=0)).astype("float32")

    def reconstruct(self, x, batch_size=256):
        """Images decoded from the posterior means of `x`, as numpy in [0, 1]."""
        return self.decode(self.encode(x, batch_size), batch_size)

    def generate(self, n, seed=0, batch_size=256):
        """`n` images decoded from z ~ N(0, I) drawn with `seed`, as numpy in [0, 1]."""
        return self.decode(self._latent(n, seed), batch_size)

    def elbo(self, x, seed=0, batch_size=256):
        """Per-image ELBO (nats), one reparameterised sample of z drawn with `seed`."""
        x = np.asarray(x, np.float32)
        stats = self.encoder.predict(x, batch_size=batch_size, verbose=0).astype(np.float64)
        mean, log_var = stats[:, : self.latent_dim], stats[:, self.latent_dim :]
        eps = np.random.default_rng(seed).standard_normal(mean.shape)
        z = (mean + np.exp(0.5 * log_var) * eps).astype(np.float32)
        logits = self.decoder.predict(z, batch_size=batch_size, verbose=0)
        return bernoulli_log_likelihood(x, logits) - gaussian_kl(mean, log_var)

    def preview_images(self, num_images=64, seed=0, inputs=None):
        grids = {"samples": self.generate(num_images, seed=seed)}
        if inputs is not None:
            x = keras.ops.convert_to_numpy(inputs)[: max(num_images // 2, 1)]
            grids["reconstructions"] = interleave_rows(x, self.reconstruct(x))
        return grids

    def evaluation_metrics(self, test_dataset, dataset=None, seed=0, batch_size=256):
        """Test ELBO (nats/image) and reconstruction error.

        `zoo.evaluation.evaluate` adds FID-FMNIST of generated samples.
        """
        x = dataset_images(test_dataset)
        results = {"elbo": float(np.mean(self.elbo(x, seed=seed, batch_size=batch_size)))}
        results.update(reconstruction_error(x, self.reconstruct(x, batch_size)))
        return results

    # ------------------------------------------------------------------ export
    def export_parts(self):
        """The parts `scripts/export.py --part` writes: {part: what it takes, what it computes}."""
        return {
            "decoder": {"input": "latent",
                        "computes": "latent codes z (N, latent_dim) -> images in [0, 1] (the "
                                    "Bernoulli means)"},
            "encoder": {"input": "images",
                        "computes": "images -> posterior means z (N, latent_dim)"},
        }

    def export_part(self, part, inputs):
        """The inference function of `part` on the symbolic `inputs` (its outputs)."""
        if part == "decoder":  # the decoder gives logits; its images are their sigmoid
            return keras.layers.Activation("sigmoid", name="images")(
                self.decoder(inputs, training=False))
        # posterior means: the first latent_dim statistics
        return self.encoder(inputs, training=False)[:, : self.latent_dim]

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed}
