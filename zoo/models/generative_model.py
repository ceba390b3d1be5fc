"""`GenerativeModel`, the base of the generative families, and their encoders/decoders.

The autoencoders, the VAE and the GANs all map images to a vector and back;
the builders here make both halves from the same width arguments (`hidden_units`
for the dense variant, `filters` for the convolutional one), so the tuner can
search them the same way across families.
"""

import math

import keras
import numpy as np
from keras import layers, ops

from zoo.errors import UserValueError
from zoo.training import ZooModel
from zoo.utils.checks import (
    check_input_shape,
    check_positive_int,
    check_seed,
    check_widths,
)

VARIANTS = ("dense", "conv")


def check_variant(variant):
    if variant not in VARIANTS:
        raise UserValueError(f"`variant` must be one of {VARIANTS}. Received: variant={variant!r}")
    return variant


def check_image_shape(input_shape, variant, filters):
    """(H, W, C) with H and W divisible by 2**len(filters) for the conv variant."""
    shape = check_input_shape(input_shape, 3)
    if variant == "conv":
        factor = 2 ** len(filters)
        if shape[0] % factor or shape[1] % factor:
            raise UserValueError(
                f"The conv variant halves the image {len(filters)} times (one per entry of "
                f"`filters`), so height and width must be divisible by {factor}. Use fewer "
                f"`filters` or variant='dense'. Received: input_shape={input_shape!r}, "
                f"filters={tuple(filters)!r}"
            )
    return shape


def _activation(kind, name):
    if kind == "leaky_relu":
        return layers.LeakyReLU(0.2, name=name)
    return layers.Activation(kind, name=name)


def build_encoder(
    input_shape,
    units,
    variant,
    hidden_units,
    filters,
    name,
    activation="relu",
    kernel_size=3,
    normalize_from=None,
):
    """Image -> `units` outputs (no activation on the last Dense).

    conv: `Conv2D(f, kernel_size, strides=2)` per entry of `filters`, flatten.
    dense: flatten, `Dense(h)` per entry of `hidden_units`.
    `normalize_from`: index of the first block followed by batch normalisation.
    """
    blocks = [keras.Input(input_shape, name=f"{name}_input")]
    widths = filters if variant == "conv" else hidden_units
    if variant == "dense":
        blocks.append(layers.Flatten(name=f"{name}_flatten"))
    for i, width in enumerate(widths):
        if variant == "conv":
            blocks.append(
                layers.Conv2D(width, kernel_size, strides=2, padding="same", name=f"{name}_conv{i}")
            )
        else:
            blocks.append(layers.Dense(width, name=f"{name}_dense{i}"))
        if normalize_from is not None and i >= normalize_from:
            blocks.append(layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}"))
        blocks.append(_activation(activation, f"{name}_act{i}"))
    if variant == "conv":
        blocks.append(layers.Flatten(name=f"{name}_flatten"))
    blocks.append(layers.Dense(units, name=f"{name}_out"))
    return keras.Sequential(blocks, name=name)


def build_decoder(
    latent_dim,
    output_shape,
    variant,
    hidden_units,
    filters,
    name,
    activation="relu",
    output_activation=None,
    batch_norm=False,
    kernel_size=3,
):
    """Latent vector -> image of `output_shape`, mirroring `build_encoder`.

    conv: Dense to a (H/2^k, W/2^k, filters[-1]) map, `Conv2DTranspose(f, strides=2)`
    per entry of `filters` reversed, a last `Conv2D` to the image's channels.
    dense: `Dense(h)` per entry of `hidden_units` reversed, Dense to every pixel.
    """
    height, width, channels = output_shape
    blocks = [keras.Input((latent_dim,), name=f"{name}_input")]

    def post(i):
        if batch_norm:
            blocks.append(layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}"))
        blocks.append(_activation(activation, f"{name}_act{i}"))

    if variant == "conv":
        factor = 2 ** len(filters)
        start = (height // factor, width // factor, filters[-1])
        blocks.append(layers.Dense(math.prod(start), name=f"{name}_project"))
        post("_project")
        blocks.append(layers.Reshape(start, name=f"{name}_reshape"))
        for i, f in enumerate(reversed(filters)):
            blocks.append(
                layers.Conv2DTranspose(
                    f, kernel_size, strides=2, padding="same", name=f"{name}_deconv{i}"
                )
            )
            post(i)
        blocks.append(
            layers.Conv2D(
                channels, kernel_size, padding="same", activation=output_activation,
                name=f"{name}_out",
            )
        )
    else:
        for i, units in enumerate(reversed(hidden_units)):
            blocks.append(layers.Dense(units, name=f"{name}_dense{i}"))
            post(i)
        blocks.append(
            layers.Dense(math.prod(output_shape), activation=output_activation, name=f"{name}_out")
        )
        blocks.append(layers.Reshape(tuple(output_shape), name=f"{name}_reshape"))
    return keras.Sequential(blocks, name=name)


class GenerativeModel(ZooModel):
    """Base of the image generative families: argument checks, job hooks, previews.

    Subclasses create their sub-models, call `build_now()`, and implement
    `preview_images(num_images, seed, inputs)` for the image-grid callback and
    `evaluation_metrics` for `scripts/evaluate.py`.
    """

    #: arguments that leave the function weights compute as it is (`zoo.weights`)
    function_preserving_arguments = ("input_shape",)

    def __init__(self, *, input_shape, latent_dim, variant, hidden_units, filters, **kwargs):
        super().__init__(**kwargs)
        self.variant = check_variant(variant)
        self.hidden_units = check_widths("hidden_units", hidden_units)
        self.filters = check_widths("filters", filters, allow_empty=variant == "dense")
        self._zoo_input_shape = check_image_shape(input_shape, variant, self.filters)
        self.latent_dim = check_positive_int("latent_dim", latent_dim)
        self.preview_inputs = None

    def build(self, input_shape):
        self.call(keras.KerasTensor(input_shape))

    def build_now(self):
        # through build(), not self(...): see ZooClassifier.build_now
        self.build((None,) + self._zoo_input_shape)

    # ------------------------------------------------------------------ job hooks
    def adapt(self, dataset):
        """Keeps a few training images (`preview_inputs`) to show in the reconstruction grid."""
        if isinstance(dataset, np.ndarray):
            x = dataset
        else:
            batch = next(iter(dataset))
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
        self.preview_inputs = np.asarray(x, dtype="float32")[:32]

    def preview_images(self, num_images=64, seed=0, inputs=None):
        """{grid name: images (N, H, W, C) in [0, 1]} for the `ImageGrid` callback."""
        raise NotImplementedError

    def _latent(self, n, seed):
        # numpy draws: the same seed gives the same codes on every backend
        check_positive_int("n", n)
        return np.random.default_rng(check_seed(seed)).standard_normal((n, self.latent_dim)).astype(
            "float32"
        )

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self._zoo_input_shape,
            "latent_dim": self.latent_dim,
            "variant": self.variant,
            "hidden_units": self.hidden_units,
            "filters": self.filters,
        }


def per_example_mean(values):
    """Mean over every axis but the first."""
    return ops.mean(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1)


def per_example_sum(values):
    """Sum over every axis but the first."""
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1)


def weighted_mean(values, sample_weight=None):
    values = ops.cast(values, "float32")
    if sample_weight is None:
        return ops.mean(values)
    weights = ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
    return ops.sum(values * weights) / ops.maximum(ops.sum(weights), 1e-12)


def interleave_rows(*arrays, columns=8):
    """Rows of `columns` images from each array in turn: originals, then their
    reconstructions, ... (every array holds the same images, in order)."""
    n = len(arrays[0])
    columns = max(1, min(columns, n))
    n = (n // columns) * columns
    out = []
    for start in range(0, n, columns):
        out.extend(a[start : start + columns] for a in arrays)
    return np.concatenate(out, axis=0)
