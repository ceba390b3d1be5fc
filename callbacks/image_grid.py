"""`ImageGrid`: generated or reconstructed images each epoch, as PNG and in TensorBoard."""

import warnings
from pathlib import Path

import keras
import numpy as np

from callbacks.tensorboard import log_images, tensorboard_dir
from zoo.errors import UserTypeError, UserValueError
from zoo.training import distribution
from zoo.utils.checks import check_positive_int
from zoo.utils.files import atomic_path


def tile_images(images, columns=8, padding=1, pad_value=1.0):
    """One (H', W', C) image holding `images` (N, H, W, C) in rows of `columns`."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or len(images) == 0:
        raise UserValueError(
            f"`images` must be a non-empty (N, H, W, C) array. Received: shape {images.shape}"
        )
    n, h, w, c = images.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    grid = np.full(
        (rows * (h + padding) + padding, columns * (w + padding) + padding, c),
        pad_value,
        dtype=np.float32,
    )
    for i, image in enumerate(images):
        r, k = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[top : top + h, left : left + w] = image
    return np.clip(grid, 0.0, 1.0)


class ImageGrid(keras.callbacks.Callback):
    """Writes the model's preview images each epoch: a PNG per grid and TensorBoard images.

    The model supplies the images through `preview_images(num_images, seed,
    inputs)` -> `{grid name: images in [0, 1]}` (the zoo's generative families:
    samples from fixed latent codes, so epochs compare; reconstructions of
    `inputs`). PNGs go to `<run_dir>/<name>-epoch<NNN>.png`, TensorBoard
    images to `<log_dir>/train` (default: the run's TensorBoard directory
    `<run_dir>/tensorboard`, beside the scalars: `tensorboard --logdir RUN`
    shows both). In a multi-process run every process computes the images (the
    model's computations are collective) and process 0 writes them.

    Args:
        run_dir: directory of the PNG files (created if missing).
        inputs: images to reconstruct (autoencoders, VAE); None: samples only.
        num_images: images per grid.
        seed: seed of the latent codes (the same every epoch).
        every: write every this many epochs (the last epoch is always written).
        log_dir: TensorBoard log directory (None: `tensorboard_dir(run_dir)`).
        columns: images per row of a grid.

    Example:

    ```python
    model.fit(train, epochs=5, callbacks=[ImageGrid("runs/gan")])
    ```
    """

    def __init__(
        self, run_dir, inputs=None, num_images=64, seed=0, every=1, log_dir=None, columns=8
    ):
        super().__init__()
        for name, value in (("num_images", num_images), ("every", every), ("columns", columns)):
            check_positive_int(name, value)
        if not isinstance(run_dir, (str, Path)):
            raise UserTypeError(f"`run_dir` must be a path. Received: run_dir={run_dir!r}")
        self.run_dir = str(run_dir)
        self.log_dir = str(tensorboard_dir(run_dir) if log_dir is None else log_dir)
        self.inputs = None if inputs is None else np.asarray(inputs, dtype=np.float32)
        self.num_images = num_images
        self.seed = seed
        self.every = every
        self.columns = columns
        self.written = []  # PNG paths, in order
        self._warned = False

    def on_train_begin(self, logs=None):
        if not callable(getattr(self.model, "preview_images", None)):
            raise UserTypeError(
                "ImageGrid needs a model with `preview_images(num_images, seed, inputs)` "
                f"(the zoo's generative families). Received: {type(self.model).__name__}"
            )

    def on_epoch_end(self, epoch, logs=None):
        last = self.params.get("epochs") if self.params else None
        if (epoch + 1) % self.every == 0 or (last is not None and epoch + 1 == last):
            self.write(epoch + 1)

    def write(self, step):
        """Writes every grid of the model for `step` (the epoch number); returns the PNG paths."""
        grids = self.model.preview_images(self.num_images, seed=self.seed, inputs=self.inputs)
        if not grids and not self._warned:
            self._warned = True
            warnings.warn(
                f"{type(self.model).__name__} shows reconstructions only and ImageGrid got no "
                "`inputs`: nothing is written. Pass inputs=<a few images>.",
                stacklevel=2,
            )
        if not distribution.is_chief():
            return []
        Path(self.run_dir).mkdir(parents=True, exist_ok=True)
        paths = []
        for name, images in grids.items():
            grid = tile_images(images, self.columns)
            path = Path(self.run_dir) / f"{name}-epoch{step:03d}.png"
            with atomic_path(path) as tmp:
                keras.utils.save_img(tmp, np.round(grid * 255).astype(np.uint8), scale=False)
            paths.append(str(path))
            log_images(self.log_dir, name, grid, step)
        self.written.extend(paths)
        return paths
