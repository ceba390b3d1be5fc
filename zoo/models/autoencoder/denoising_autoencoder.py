"""`DenoisingAutoencoder`: an autoencoder whose encoder sees a corrupted image in training."""

import keras
from keras import layers, ops

from zoo.models.autoencoder.autoencoder import Autoencoder
from zoo.models.autoencoder.masking_noise import MaskingNoise
from zoo.models.generative_model import interleave_rows
from zoo.utils.checks import check_choice, check_non_negative, check_rate, check_seed

NOISES = ("gaussian", "masking", "dropout")


class DenoisingAutoencoder(Autoencoder):
    """Autoencoder whose encoder sees a corrupted image in training; it reconstructs the clean one.

    One class, two registered names: `denoising_autoencoder` (Vincent et al.,
    2008: Gaussian noise of `noise_stddev`, clipped to [0, 1], or masking
    noise that zeroes a fraction `noise_rate` of the pixels) and
    `dropout_autoencoder` (`noise="dropout"`: dropout of a fraction
    `noise_rate` of the input pixels, the kept ones rescaled). The corruption
    acts in training only; inference reconstructs the image as given.

    Args:
        noise: "gaussian", "masking" or "dropout".
        noise_stddev: standard deviation of the Gaussian noise.
        noise_rate: fraction of pixels masking zeroes or dropout drops, in [0, 1).
        seed: optional int seed of the noise.
        input_shape, latent_dim, variant, hidden_units, filters,
            reconstruction_loss: as for `autoencoder`.
        **kwargs: `ZooModel` arguments.

    Example:

    ```python
    model = zoo.create("denoising_autoencoder", noise="masking", noise_rate=0.4)
    model = zoo.create("dropout_autoencoder", noise_rate=0.3)
    ```
    """

    #: the corruption acts in training only (`zoo.weights`)
    function_preserving_arguments = ("input_shape", "noise_rate", "noise_stddev")

    def __init__(
        self,
        *,
        input_shape=(28, 28, 1),
        latent_dim=32,
        variant="conv",
        hidden_units=(256, 128),
        filters=(32, 64),
        reconstruction_loss="binary_crossentropy",
        noise="gaussian",
        noise_stddev=0.3,
        noise_rate=0.3,
        seed=None,
        **kwargs,
    ):
        self.noise = check_choice("noise", noise, NOISES)
        self.noise_stddev = check_non_negative("noise_stddev", noise_stddev)
        self.noise_rate = check_rate("noise_rate", noise_rate)
        self.seed = check_seed(seed)
        super().__init__(
            input_shape=input_shape,
            latent_dim=latent_dim,
            variant=variant,
            hidden_units=hidden_units,
            filters=filters,
            reconstruction_loss=reconstruction_loss,
            **kwargs,
        )

    def _make_corruption_layer(self, seed=None):
        if self.noise == "gaussian":
            return layers.GaussianNoise(self.noise_stddev, seed=seed, name="noise")
        if self.noise == "masking":
            return MaskingNoise(self.noise_rate, seed=seed, name="noise")
        return layers.Dropout(self.noise_rate, seed=seed, name="input_dropout")

    def corrupt(self, inputs, training=False):
        return self._corrupt_with(self.corruption_layer, inputs) if training else inputs

    def preview_images(self, num_images=64, seed=0, inputs=None):
        if inputs is None:
            return {}
        x = keras.ops.convert_to_numpy(inputs)[: max(num_images // 3, 1)]
        # a fresh noise layer: the preview leaves the training noise's seed alone
        noisy = keras.ops.convert_to_numpy(self._corrupt_with(self._make_corruption_layer(seed), x))
        # clean, corrupted, reconstructed from the corrupted
        return {"denoising": interleave_rows(x, noisy, self.reconstruct(noisy))}

    def _corrupt_with(self, layer, x):
        noisy = layer(x, training=True)
        return ops.clip(noisy, 0.0, 1.0) if self.noise == "gaussian" else noisy

    def get_config(self):
        return {
            **super().get_config(),
            "noise": self.noise,
            "noise_stddev": self.noise_stddev,
            "noise_rate": self.noise_rate,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "dropout" in config:  # saved by the former DropoutAutoencoder class
            config.update(noise="dropout", noise_rate=config.pop("dropout"))
        return super().from_config(config)  # ZooModel's: re-applies a recorded quantization


# .keras files saved before the two classes were one name the other class
keras.saving.get_custom_objects().setdefault("zoo>DropoutAutoencoder", DenoisingAutoencoder)
