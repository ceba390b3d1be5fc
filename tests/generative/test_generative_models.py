"""Generative families: one training step per backend, .keras round trip, input noise."""

import warnings

import numpy as np
import pytest

import keras
import zoo

NAMES = ["autoencoder", "denoising_autoencoder", "dropout_autoencoder", "vae", "dcgan", "wgan_gp"]
TINY = dict(input_shape=(8, 8, 1), latent_dim=3, hidden_units=(12,), filters=(4,))
EXPECTED_LOGS = {
    "autoencoder": {"loss", "mse"},
    "denoising_autoencoder": {"loss", "mse"},
    "dropout_autoencoder": {"loss", "mse"},
    "vae": {"loss", "reconstruction_loss", "kl_loss"},
    "dcgan": {"d_loss", "g_loss"},
    "wgan_gp": {"d_loss", "g_loss", "gp", "wasserstein"},
}


def tiny(name, variant="dense", **kwargs):
    extra = {"critic_steps": 2} if name == "wgan_gp" else {}
    return zoo.create(name, **{**TINY, "variant": variant, **extra, **kwargs})


def images(n=8, shape=(8, 8, 1), seed=0):
    return np.random.default_rng(seed).uniform(size=(n,) + shape).astype("float32")


def outputs(model, x):
    out = model(x, training=False)
    out = out["reconstruction"] if isinstance(out, dict) else out
    return keras.ops.convert_to_numpy(out)


@pytest.mark.jax
@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_generative_train_step_and_keras_round_trip(name, tmp_path):
    model = tiny(name)
    x, y = images(), np.arange(8) % 3  # labels are ignored
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    logs = model.train_on_batch(x, y, return_dict=True)
    assert EXPECTED_LOGS[name] <= set(logs), logs
    assert all(np.isfinite(float(v)) for v in logs.values()), logs

    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_allclose(outputs(loaded, x), outputs(model, x), atol=1e-6)
    # optimizer state (both players' for the GANs) comes back too
    saved = [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]
    restored = [keras.ops.convert_to_numpy(v) for v in loaded.optimizer.variables]
    assert len(saved) == len(restored) and len(saved) > 2
    for a, b in zip(saved, restored):
        np.testing.assert_allclose(a, b)
    if hasattr(model, "generate"):
        np.testing.assert_allclose(loaded.generate(4, seed=1), model.generate(4, seed=1), atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_generative_conv_variant_trains(name):
    model = tiny(name, variant="conv", filters=(4, 8))
    model.compile()
    logs = model.train_on_batch(images(), return_dict=True)
    assert all(np.isfinite(float(v)) for v in logs.values()), logs
    assert model.expected_input_shape() == (8, 8, 1)


@pytest.mark.jax
@pytest.mark.torch
@pytest.mark.parametrize(
    "kwargs",
    [dict(noise="gaussian", noise_stddev=0.1), dict(noise="masking", noise_rate=0.5)],
    ids=["gaussian", "masking"],
)
def test_generative_denoising_noise_only_in_training(kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = tiny("denoising_autoencoder", seed=3, **kwargs)
    assert not [w for w in caught if "build()" in str(w.message)]  # no half-built layer
    x = np.full((16, 8, 8, 1), 0.5, dtype="float32")
    clean = keras.ops.convert_to_numpy(model.corrupt(x, training=False))
    noisy = keras.ops.convert_to_numpy(model.corrupt(x, training=True))
    np.testing.assert_array_equal(clean, x)
    if kwargs["noise"] == "gaussian":
        assert abs(float(np.std(noisy - x)) - 0.1) < 0.01
    else:
        assert abs(float(np.mean(noisy == 0)) - 0.5) < 0.05
        assert set(np.unique(noisy)) <= {0.0, 0.5}  # masked, never rescaled
    # inference: the image as given, deterministic; training: the corrupted image
    expected = keras.ops.convert_to_numpy(model.decoder(model.encoder(x)))
    np.testing.assert_allclose(outputs(model, x), expected, atol=1e-6)
    np.testing.assert_allclose(outputs(model, x), outputs(model, x))
    trained = keras.ops.convert_to_numpy(model(x, training=True))
    assert np.max(np.abs(trained - expected)) > 1e-4


def test_generative_dropout_autoencoder_drops_only_in_training():
    model = tiny("dropout_autoencoder", noise_rate=0.5, seed=1)
    x = np.full((16, 8, 8, 1), 0.5, dtype="float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.corrupt(x)), x)
    dropped = keras.ops.convert_to_numpy(model.corrupt(x, training=True))
    assert set(np.unique(dropped)) == {0.0, 1.0}  # Dropout rescales the kept pixels


def test_generative_api_and_argument_errors():
    vae = tiny("vae")
    x = images(5)
    assert vae.encode(x).shape == (5, 3)
    assert vae.reconstruct(x).shape == x.shape
    samples = vae.generate(6, seed=4)
    assert samples.shape == (6, 8, 8, 1) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_allclose(vae.generate(6, seed=4), samples)
    gan = tiny("dcgan")
    assert gan.generate(3, seed=0).shape == (3, 8, 8, 1)
    assert gan.predict(x, verbose=0).shape == (5, 1)  # discriminator logits
    ae = tiny("autoencoder")
    assert ae.encode(x).shape == (5, 3)
    with pytest.raises(ValueError, match="divisible by 4"):
        zoo.create("autoencoder", input_shape=(10, 10, 1), filters=(4, 8))
    with pytest.raises(ValueError, match="variant"):
        zoo.create("vae", variant="mlp")
    with pytest.raises(ValueError, match="noise"):
        zoo.create("denoising_autoencoder", noise="salt")
    with pytest.raises(ValueError, match="latent_dim"):
        zoo.create("dcgan", latent_dim=0)
    with pytest.raises(TypeError, match="num_classes"):
        zoo.create("vae", num_classes=10)
    with pytest.raises(ValueError, match="n"):
        vae.generate(0)


def test_generative_compile_forms():
    gan = tiny("dcgan")
    gan.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.5))
    d, g = gan.optimizer["d"], gan.optimizer["g"]
    assert d is not g and isinstance(d, keras.optimizers.SGD)
    assert float(d.learning_rate) == pytest.approx(0.05) and g.momentum == 0.5
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-4), g_optimizer="rmsprop")
    assert isinstance(gan.optimizer["g"], keras.optimizers.RMSprop)
    gan.compile()
    assert float(gan.optimizer["d"].learning_rate) == pytest.approx(2e-4)
    shared = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer objects"):
        gan.compile(d_optimizer=shared, g_optimizer=shared)
    with pytest.raises(ValueError, match="not both"):
        gan.compile(optimizer=zoo.PlayerOptimizers({"d": "adam", "g": "adam"}), d_optimizer="sgd")


@pytest.mark.jax
@pytest.mark.torch
def test_generative_gan_evaluation_leaves_batch_norm_statistics_alone():
    model = tiny("dcgan")
    model.compile()
    x = images()
    model.train_on_batch(x, return_dict=True)  # the training step does update them
    stats = [keras.ops.convert_to_numpy(v) for v in model.generator.non_trainable_variables]
    assert stats, "the generator has batch normalisation"
    model.evaluate(x, batch_size=8, verbose=0)
    for before, v in zip(stats, model.generator.non_trainable_variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(v), before)
    trained = model.train_on_batch(x, return_dict=True)  # and training still works after
    assert all(np.isfinite(float(v)) for v in trained.values())
    after = [keras.ops.convert_to_numpy(v) for v in model.generator.non_trainable_variables]
    assert any(np.any(a != b) for a, b in zip(after, stats))
