"""`Autoencoder`: encoder to a code, decoder back to the image."""

import keras
from keras import ops

from zoo.errors import UserValueError
from zoo.models.generative_model import (
    GenerativeModel,
    build_decoder,
    build_encoder,
    interleave_rows,
    per_example_mean,
    weighted_mean,
)
from zoo.training.losses import reconstruction_error
from zoo.utils.data import dataset_images

RECONSTRUCTION_LOSSES = ("binary_crossentropy", "mse")


class Autoencoder(GenerativeModel):
    """Encoder to a `latent_dim` code, decoder back to the image; trained to reconstruct.

    The loss is the per-pixel binary cross-entropy (or squared error) between
    the input and the sigmoid output; the labels of `(x, y)` batches are
    ignored, so `scripts/train.py autoencoder --dataset fashion_mnist` works as is.
    The mean squared error is logged as `mse`. At the defaults (conv,
    28x28x1) the model has 278,369 parameters.

    Args:
        input_shape: image shape (H, W, C), values in [0, 1].
        latent_dim: size of the code.
        variant: "conv" (strided convolutions) or "dense" (fully connected).
        hidden_units: Dense widths of the encoder (the decoder mirrors them); dense variant.
        filters: Conv2D widths of the encoder, one stride-2 stage each (the
            decoder mirrors them); conv variant. H and W must be divisible by
            2**len(filters).
        reconstruction_loss: "binary_crossentropy" or "mse".
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    model = zoo.create("autoencoder", latent_dim=16, variant="dense")
    model.compile(optimizer="adam")
    model.fit(x_train, epochs=5)
    codes = model.encode(x_test)
    ```
    """

    def __init__(
        self,
        *,
        input_shape=(28, 28, 1),
        latent_dim=32,
        variant="conv",
        hidden_units=(256, 128),
        filters=(32, 64),
        reconstruction_loss="binary_crossentropy",
        **kwargs,
    ):
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, variant=variant,
                         hidden_units=hidden_units, filters=filters, **kwargs)
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise UserValueError(
                f"`reconstruction_loss` must be one of {RECONSTRUCTION_LOSSES}. "
                f"Received: reconstruction_loss={reconstruction_loss!r}"
            )
        self.reconstruction_loss = reconstruction_loss
        self.corruption_layer = self._make_corruption_layer(getattr(self, "seed", None))
        shape = self._zoo_input_shape
        self.encoder = build_encoder(
            shape, self.latent_dim, self.variant, self.hidden_units, self.filters, "encoder"
        )
        self.decoder = build_decoder(
            self.latent_dim, shape, self.variant, self.hidden_units, self.filters, "decoder",
            output_activation="sigmoid",
        )
        self.mse_tracker = keras.metrics.Mean(name="mse")
        self.build_now()

    def _make_corruption_layer(self, seed=None):
        """The training-only input corruption of the subclasses; None here."""
        return None

    def corrupt(self, inputs, training=False):
        """The input the encoder sees: the image itself (subclasses add noise in training)."""
        return inputs

    def call(self, inputs, training=False):
        x = self.corrupt(inputs, training=training)
        return self.decoder(self.encoder(x, training=training), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # the target is the clean input; labels are ignored
        target = ops.cast(x, "float32")
        y_pred = ops.cast(y_pred, "float32")
        squared = per_example_mean(ops.square(target - y_pred))
        if self.reconstruction_loss == "mse":
            per_example = squared
        else:
            per_example = per_example_mean(ops.binary_crossentropy(target, y_pred))
        self.mse_tracker.update_state(squared, sample_weight=sample_weight)
        return weighted_mean(per_example, sample_weight)

    # ------------------------------------------------------------------ use
    def encode(self, x, batch_size=256):
        """Codes (N, latent_dim) of images `x`, as numpy."""
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)

    def reconstruct(self, x, batch_size=256):
        """Reconstructions of images `x` (no input noise), as numpy in [0, 1]."""
        return self.predict(x, batch_size=batch_size, verbose=0)

    def preview_images(self, num_images=64, seed=0, inputs=None):
        if inputs is None:
            return {}
        x = keras.ops.convert_to_numpy(inputs)[: max(num_images // 2, 1)]
        return {"reconstructions": interleave_rows(x, self.reconstruct(x))}

    def evaluation_metrics(self, test_dataset, dataset=None, batch_size=256):
        """Reconstruction error on the test images: per-pixel MSE and BCE (nats)."""
        x = dataset_images(test_dataset)
        return reconstruction_error(x, self.reconstruct(x, batch_size=batch_size))

    def get_config(self):
        return {**super().get_config(), "reconstruction_loss": self.reconstruction_loss}
