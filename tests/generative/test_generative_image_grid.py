"""The ImageGrid callback: PNG grids in the run directory and TensorBoard images."""

import copy
from pathlib import Path

import numpy as np
import pytest

import keras
import zoo
from callbacks.image_grid import ImageGrid, tile_images
from tests_generative_helpers import tensorboard_image_tags

TINY = dict(input_shape=(8, 8, 1), latent_dim=3, hidden_units=(12,), filters=(4,), variant="dense")


def test_generative_tile_images():
    grid = tile_images(np.zeros((10, 4, 5, 1)), columns=4, padding=1)
    assert grid.shape == (3 * 5 + 1, 4 * 6 + 1, 1)
    assert grid[0, 0, 0] == 1.0 and grid[1, 1, 0] == 0.0
    with pytest.raises(ValueError, match="images"):
        tile_images(np.zeros((0, 4, 4, 1)))


@pytest.mark.torch
def test_generative_image_grid_writes_png_and_tensorboard(tmp_path):
    model = zoo.create("dcgan", **TINY)
    model.compile()
    x = np.random.default_rng(0).uniform(size=(8, 8, 8, 1)).astype("float32")
    grid = ImageGrid(str(tmp_path), num_images=16)
    copy.deepcopy(grid)  # keras-tuner deep-copies callbacks
    model.fit(x, batch_size=8, epochs=2, verbose=0, callbacks=[grid])
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["samples-epoch001.png", "samples-epoch002.png"]
    image = keras.utils.load_img(tmp_path / pngs[0], color_mode="grayscale")
    assert image.size == (8 * 9 + 1, 2 * 9 + 1)  # 16 images, 8 per row, 1-pixel borders
    assert tensorboard_image_tags(tmp_path / "tensorboard" / "train") == [
        ("samples", 1), ("samples", 2)]


def test_generative_family_callbacks_show_reconstructions(tmp_path):
    from zoo.jobs.train import family_callbacks

    import tensorflow as tf

    x = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((x, np.zeros(16, "int32"))).batch(8)
    model = zoo.create("denoising_autoencoder", **TINY)
    model.adapt(ds)
    (grid,) = family_callbacks(model, tmp_path)
    assert isinstance(grid, ImageGrid) and grid.inputs.shape == (8, 8, 8, 1)
    grid.set_model(model)
    (path,) = grid.write(1)
    assert Path(path).name == "denoising-epoch001.png"
    vae = zoo.create("vae", **TINY)
    vae.adapt(ds)
    vae_grid = family_callbacks(vae, tmp_path)[0]
    vae_grid.set_model(vae)
    assert sorted(Path(p).name for p in vae_grid.write(3)) == [
        "reconstructions-epoch003.png", "samples-epoch003.png",
    ]
    plain = ImageGrid(str(tmp_path))
    plain.set_model(zoo.create("autoencoder", **TINY))
    with pytest.warns(UserWarning, match="inputs"):
        assert plain.write(1) == []


def test_generative_image_grid_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="num_images"):
        ImageGrid(str(tmp_path), num_images=0)
    grid = ImageGrid(str(tmp_path))
    grid.set_model(zoo.create("mlp", input_shape=(4,), num_classes=2))
    with pytest.raises(TypeError, match="preview_images"):
        grid.on_train_begin()
